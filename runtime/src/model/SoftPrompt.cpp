// SoftPrompt: user tokens (issue 5) — not written yet

"""Our objectives (runtime/src/objectives/Losses.cpp) against TRL's own loss code, on identical float64 inputs.

The runtime's `LossesPeer.ComputesLossesForTrl` GoogleTest reads ALIGN_LOSS_INPUT (a JSON file written here: token
log-probs and completion masks of a batch of chosen/rejected responses, reference sequence log-probs, reward-model
scores and a list of loss configurations) and writes ALIGN_LOSS_OUTPUT: per configuration, the per-example losses,
their mean, the logged reward statistics, and the gradient of the mean w.r.t. the policy's token log-probs (for BT,
w.r.t. the rewards). Here the same inputs go through TRL (1.16) and every number must agree to 1e-6 in float64
(in practice they agree to ~1e-15).

What of TRL is called, and what is reproduced:

* DPO sigmoid, IPO, hinge: `trl.trainer.dpo_trainer.DPOTrainer._compute_loss` itself, called on a minimal stand-in
  for the trainer (the attributes that method reads) and a stand-in policy whose fused-LM-head output is our token
  log-probs. The stand-in zeroes the log-probs of positions whose label is -100 exactly as TRL's fused head does
  (`x.view(mask.shape).masked_fill(~mask, 0)`, trl/trainer/utils.py `add_fused_lm_head`, line 1660).
  Reference log-probs are passed precomputed (`precompute_ref_logps=True`). `_compute_loss` returns the batch mean
  only, so per-example values come from calling it on one row at a time.
* DPO with label smoothing (cDPO): TRL 1.16's DPOTrainer no longer applies `label_smoothing` to loss_type="sigmoid"
  (it is used only by "robust", "exo_pair" and "aot"; `test_trl_dpo_trainer_sigmoid_ignores_label_smoothing` pins
  that down). The conservative formula -(1-e)logsig(b h) - e logsig(-b h) lives in
  `trl.experimental.cpo.CPOTrainer.cpo_loss` (loss_type="sigmoid"), which we call itself with the DPO log-ratios
  (log pi - log pi_ref, summed over the completion as `_compute_loss` sums them, dpo_trainer.py line 1304) in
  place of its policy log-probs.
* SimPO: `CPOTrainer.cpo_loss` itself with loss_type="simpo". Its inputs, the mean token log-probs, are computed with
  the last line of `CPOTrainer.get_batch_logps` reproduced (experimental/cpo/cpo_trainer.py lines 787-788,
  `(per_token_logps * loss_mask).sum(-1) / loss_mask.sum(-1)`): that static method takes logits, not log-probs.
  CPO's NLL term (`cpo_alpha`) is not part of the SimPO objective and is not compared.
* Bradley-Terry: `trl.trainer.reward_trainer.RewardTrainer.compute_loss` itself on a stand-in trainer and a stand-in
  reward model returning our scores as logits; with and without the optional "margin" column.

The test skips when torch/TRL are absent or the runtime test binary is not built; once TRL imports, any failure to
make a comparison is a test failure.
"""
import collections
import json
import os
import subprocess
import types
import warnings

import pytest

torch = pytest.importorskip("torch")
trl = pytest.importorskip("trl")

with warnings.catch_warnings():  # "APIs here are unstable": the reason the docstring pins the version
    warnings.simplefilter("ignore")
    from trl.experimental.cpo import CPOTrainer  # noqa: E402
from trl.trainer.dpo_trainer import DPOTrainer  # noqa: E402
from trl.trainer.reward_trainer import RewardTrainer  # noqa: E402
from trl.trainer.utils import FusedCausalLMOutput  # noqa: E402

from conftest import BUILD_DIR  # noqa: E402

RUNTIME_TESTS = BUILD_DIR / "bin" / "align_runtime_tests"
PEER_TEST = "LossesPeer.ComputesLossesForTrl"
TOLERANCE = 1e-6  # absolute, float64 on both sides

BATCH, SEQ = 7, 12  # pairs; tokens per sequence (prompt + completion + right padding)

CONFIGS = [
    {"name": "dpo_beta0.1", "loss": "dpo", "beta": 0.1},
    {"name": "dpo_beta0.5", "loss": "dpo", "beta": 0.5},
    {"name": "dpo_smoothed", "loss": "dpo", "beta": 0.1, "label_smoothing": 0.1},
    {"name": "dpo_smoothed_beta0.5", "loss": "dpo", "beta": 0.5, "label_smoothing": 0.3},
    {"name": "ipo_beta0.1", "loss": "ipo", "beta": 0.1},
    {"name": "ipo_beta1", "loss": "ipo", "beta": 1.0},
    {"name": "hinge_beta0.1", "loss": "hinge", "beta": 0.1},
    {"name": "hinge_beta0.5", "loss": "hinge", "beta": 0.5},
    {"name": "simpo", "loss": "simpo", "beta": 2.0, "gamma": 0.5},
    {"name": "simpo_smoothed", "loss": "simpo", "beta": 2.5, "gamma": 1.4, "label_smoothing": 0.1},
    {"name": "bt", "loss": "bt"},
    {"name": "bt_margin", "loss": "bt", "margin": True},
]
CONFIG = {c["name"]: c for c in CONFIGS}


def make_batch(seed=1234):
    """Random float64 inputs: rows 0..B-1 of each [2B, ...] tensor are the chosen responses, B..2B-1 the rejected."""
    g = torch.Generator().manual_seed(seed)
    rows = 2 * BATCH
    completion_mask = torch.zeros(rows, SEQ, dtype=torch.int64)
    attention_mask = torch.zeros(rows, SEQ, dtype=torch.int64)
    for r in range(rows):
        prompt = int(torch.randint(1, 5, (1,), generator=g))  # >= 1: position 0 is never a completion token
        length = int(torch.randint(1, SEQ - prompt + 1, (1,), generator=g))
        if r == 1:
            length = 1  # a one-token completion
        if r == BATCH + 2:
            length = SEQ - prompt  # a completion that fills the row
        completion_mask[r, prompt:prompt + length] = 1
        attention_mask[r, :prompt + length] = 1
    # Every position holds a log-prob, padding included: TRL's fused head zeroes the unlabelled ones, ours selects.
    token_logps = -6 * torch.rand(rows, SEQ - 1, generator=g, dtype=torch.float64)
    shift_mask = completion_mask[:, 1:].bool()
    policy_logps = (token_logps * shift_mask).sum(1)
    reference_logps = policy_logps + 4 * torch.randn(rows, generator=g, dtype=torch.float64)
    reference_logps[0] += 80  # a saturated pair: beta*h of -8 to -40
    return types.SimpleNamespace(
        input_ids=torch.randint(3, 100, (rows, SEQ), generator=g),
        attention_mask=attention_mask,
        completion_mask=completion_mask,
        token_logps=token_logps,
        shift_mask=shift_mask,
        reference_chosen=reference_logps[:BATCH],
        reference_rejected=reference_logps[BATCH:],
        rewards_chosen=2 * torch.randn(BATCH, generator=g, dtype=torch.float64),
        rewards_rejected=2 * torch.randn(BATCH, generator=g, dtype=torch.float64),
        margin=torch.rand(BATCH, generator=g, dtype=torch.float64),
    )


def input_json(batch):
    return {
        "policy_chosen_token_logps": batch.token_logps[:BATCH].tolist(),
        "policy_rejected_token_logps": batch.token_logps[BATCH:].tolist(),
        "chosen_mask": batch.shift_mask[:BATCH].to(torch.int64).tolist(),
        "rejected_mask": batch.shift_mask[BATCH:].to(torch.int64).tolist(),
        "reference_chosen_logps": batch.reference_chosen.tolist(),
        "reference_rejected_logps": batch.reference_rejected.tolist(),
        "rewards_chosen": batch.rewards_chosen.tolist(),
        "rewards_rejected": batch.rewards_rejected.tolist(),
        "margin": batch.margin.tolist(),
        "configs": CONFIGS,
    }


@pytest.fixture(scope="module")
def peer(tmp_path_factory):
    """(batch, our results by config name), from one run of the runtime's peer test."""
    if not RUNTIME_TESTS.exists():
        pytest.skip(f"{RUNTIME_TESTS} is not built (ninja align_runtime_tests)")
    work = tmp_path_factory.mktemp("losses")
    batch = make_batch()
    (work / "input.json").write_text(json.dumps(input_json(batch)))
    env = {**os.environ, "ALIGN_LOSS_INPUT": str(work / "input.json"), "ALIGN_LOSS_OUTPUT": str(work / "output.json")}
    run = subprocess.run([str(RUNTIME_TESTS), f"--gtest_filter={PEER_TEST}"], capture_output=True, text=True,
                         timeout=120, env=env)
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"[       OK ] {PEER_TEST}" in run.stdout, f"{PEER_TEST} did not run and pass:\n{run.stdout}"
    ours = json.loads((work / "output.json").read_text())
    assert sorted(ours) == sorted(CONFIG)
    return batch, ours


# --- stand-ins for the parts of a trainer that TRL's loss methods read -------------------------------------------

class IdentityAccelerator:
    """Single process: gathering is the identity."""
    device = torch.device("cpu")

    @staticmethod
    def gather(x):
        return x

    @staticmethod
    def gather_for_metrics(x):
        return x


class FusedPolicy:
    """A policy whose fused LM head (`model(..., labels=labels, fused_lm_head=True)`) returns fixed token log-probs."""
    training = False  # DPOTrainer then logs under "eval" and skips the train-only token counting

    def __init__(self, chosen, rejected):
        self.token_logps = torch.cat([chosen, rejected])

    def __call__(self, *, labels, fused_lm_head=False, **backbone_kwargs):
        assert fused_lm_head, "DPOTrainer is expected to ask for the fused LM head"
        mask = labels[:, 1:] != -100  # as add_fused_lm_head: score position t's label labels[t + 1]
        log_probs = self.token_logps.masked_fill(~mask, 0)
        zeros = torch.zeros_like(log_probs).detach()
        return FusedCausalLMOutput(log_probs=log_probs, entropy=zeros, mean_logits=zeros, is_top1=zeros.bool(),
                                   label_mask=mask)


def new_metrics():
    return {"train": collections.defaultdict(list), "eval": collections.defaultdict(list)}


def trl_dpo_trainer(batch, loss_type, beta, label_smoothing=0.0, rows=slice(None)):
    """DPOTrainer._compute_loss on pairs `rows`: (mean loss, grad chosen, grad rejected, logged metrics)."""
    chosen = batch.token_logps[:BATCH][rows].clone().requires_grad_(True)
    rejected = batch.token_logps[BATCH:][rows].clone().requires_grad_(True)
    model = FusedPolicy(chosen, rejected)
    trainer = types.SimpleNamespace(
        model=model, accelerator=IdentityAccelerator, aux_loss_enabled=False, ld_alpha=None,
        precompute_ref_logps=True, f_divergence_type="reverse_kl", loss_types=[loss_type], loss_weights=[1.0],
        beta=beta, label_smoothing=label_smoothing, use_weighting=False, _metrics=new_metrics(),
        _total_train_tokens=0, _tp_size=1)

    def both(t):
        return torch.cat([t[:BATCH][rows], t[BATCH:][rows]])

    inputs = {
        "input_ids": both(batch.input_ids),
        "attention_mask": both(batch.attention_mask),
        "completion_mask": both(batch.completion_mask),
        "ref_chosen_logps": batch.reference_chosen[rows],
        "ref_rejected_logps": batch.reference_rejected[rows],
    }
    loss = DPOTrainer._compute_loss(trainer, model, inputs, return_outputs=False)
    loss.backward()
    return loss.detach(), chosen.grad, rejected.grad, trainer._metrics["eval"]


def trl_cpo_loss(loss_type, beta, label_smoothing, chosen, rejected, gamma=0.0):
    """CPOTrainer.cpo_loss: (per-example losses, chosen rewards, rejected rewards)."""
    trainer = types.SimpleNamespace(alpha=0.0, accelerator=IdentityAccelerator, loss_type=loss_type, beta=beta,
                                    label_smoothing=label_smoothing, simpo_gamma=gamma)
    return CPOTrainer.cpo_loss(trainer, chosen, rejected)


def trl_reward_trainer(batch, with_margin, rows=slice(None)):
    """RewardTrainer.compute_loss on pairs `rows`: (mean loss, grad chosen, grad rejected)."""
    chosen = batch.rewards_chosen[rows].clone().requires_grad_(True)
    rejected = batch.rewards_rejected[rows].clone().requires_grad_(True)

    class RewardHead:
        training = False

        def __call__(self, **inputs):
            return types.SimpleNamespace(logits=torch.cat([chosen, rejected]).unsqueeze(-1))

    head = RewardHead()
    trainer = types.SimpleNamespace(model=head, accelerator=IdentityAccelerator, _metrics=new_metrics(),
                                    args=types.SimpleNamespace(center_rewards_coefficient=None),
                                    _total_train_tokens=0, _tp_size=1)
    n = chosen.numel()
    inputs = {"input_ids": torch.zeros(2 * n, 3, dtype=torch.int64),
              "attention_mask": torch.ones(2 * n, 3, dtype=torch.int64)}
    if with_margin:
        inputs["margin"] = batch.margin[rows]
    loss = RewardTrainer.compute_loss(trainer, head, inputs)
    loss.backward()
    return loss.detach(), chosen.grad, rejected.grad


# --- comparison --------------------------------------------------------------------------------------------------

def max_difference(ours, theirs):
    ours = torch.as_tensor(ours, dtype=torch.float64)
    theirs = torch.as_tensor(theirs, dtype=torch.float64).detach()
    assert ours.shape == theirs.shape, f"shape {tuple(ours.shape)} vs TRL {tuple(theirs.shape)}"
    return (ours - theirs).abs().max().item() if ours.numel() else 0.0


def expect_close(name, what, ours, theirs):
    difference = max_difference(ours, theirs)
    print(f"{name:>22} {what:<16} max |ours - TRL| = {difference:.2e}")
    assert difference <= TOLERANCE, f"{name}: {what} differs from TRL by {difference:.3g}"


def expect_pair_loss_close(name, result, losses, chosen, rejected, chosen_rewards, rejected_rewards):
    """Our per-example losses, mean, gradients and logged rewards against TRL's for one pairwise loss."""
    expect_close(name, "per example", result["per_example"], losses)
    expect_close(name, "mean", result["mean"], losses.mean())
    expect_close(name, "grad chosen", result["grad_chosen"], chosen.grad)
    expect_close(name, "grad rejected", result["grad_rejected"], rejected.grad)
    expect_close(name, "rewards/chosen", result["rewards_chosen"], chosen_rewards.mean())
    expect_close(name, "rewards/rejected", result["rewards_rejected"], rejected_rewards.mean())


DPO_TRAINER_CONFIGS = [n for n, c in CONFIG.items()
                       if c["loss"] in ("ipo", "hinge") or (c["loss"] == "dpo" and "label_smoothing" not in c)]


@pytest.mark.parametrize("name", DPO_TRAINER_CONFIGS)
def test_dpo_ipo_hinge_match_dpo_trainer(peer, name):
    batch, ours = peer
    config, result = CONFIG[name], ours[name]
    loss_type = {"dpo": "sigmoid", "ipo": "ipo", "hinge": "hinge"}[config["loss"]]
    loss, grad_chosen, grad_rejected, metrics = trl_dpo_trainer(batch, loss_type, config["beta"])
    expect_close(name, "mean", result["mean"], loss)
    expect_close(name, "grad chosen", result["grad_chosen"], grad_chosen)
    expect_close(name, "grad rejected", result["grad_rejected"], grad_rejected)
    expect_close(name, "rewards/chosen", result["rewards_chosen"], metrics["rewards/chosen"][0])
    expect_close(name, "rewards/rejected", result["rewards_rejected"], metrics["rewards/rejected"][0])
    # TRL computes the accuracy in float32 (`.float()`), hence differences of ~3e-8 there.
    expect_close(name, "rewards/accuracy", result["rewards_accuracy"], metrics["rewards/accuracies"][0])
    per_example = [trl_dpo_trainer(batch, loss_type, config["beta"], rows=slice(b, b + 1))[0] for b in range(BATCH)]
    expect_close(name, "per example", result["per_example"], torch.stack(per_example))


def test_inputs_discriminate_between_conventions(peer):
    """The batch reaches the saturated tail of the sigmoid and both sides of the hinge's kink, and is one on which
    the conventions compared above matter: IPO's length normalisation, SimPO's gamma (vs gamma/beta), and padding."""
    batch, ours = peer
    hinge = torch.tensor(ours["hinge_beta0.5"]["per_example"])
    assert (hinge == 0).any() and (hinge > 0).any()
    assert max(ours["dpo_beta0.5"]["per_example"]) > 10
    sums = (batch.token_logps * batch.shift_mask).sum(1)
    h = (sums[:BATCH] - batch.reference_chosen) - (sums[BATCH:] - batch.reference_rejected)
    unnormalised_ipo = ((h - 1 / (2 * 0.1)) ** 2).mean().item()
    assert abs(ours["ipo_beta0.1"]["mean"] - unnormalised_ipo) > 1e-3
    means = sums / batch.shift_mask.sum(1)
    gamma_over_beta = torch.nn.functional.softplus(-(2.0 * (means[:BATCH] - means[BATCH:]) - 0.5 / 2.0)).mean().item()
    assert abs(ours["simpo"]["mean"] - gamma_over_beta) > 1e-3
    padded = ~batch.shift_mask[:BATCH]
    assert padded.any() and (torch.tensor(ours["dpo_beta0.1"]["grad_chosen"])[padded] == 0).all()


@pytest.mark.parametrize("name", ["dpo_smoothed", "dpo_smoothed_beta0.5"])
def test_label_smoothed_dpo_matches_cpo_sigmoid_loss(peer, name):
    batch, ours = peer
    config, result = CONFIG[name], ours[name]
    chosen = batch.token_logps[:BATCH].clone().requires_grad_(True)
    rejected = batch.token_logps[BATCH:].clone().requires_grad_(True)
    # Sequence log-probs as DPOTrainer._compute_loss forms them: the fused head's zero-filled log-probs, summed.
    chosen_logratios = (chosen * batch.shift_mask[:BATCH]).sum(1) - batch.reference_chosen
    rejected_logratios = (rejected * batch.shift_mask[BATCH:]).sum(1) - batch.reference_rejected
    losses, chosen_rewards, rejected_rewards = trl_cpo_loss("sigmoid", config["beta"], config["label_smoothing"],
                                                            chosen_logratios, rejected_logratios)
    losses.mean().backward()
    expect_pair_loss_close(name, result, losses, chosen, rejected, chosen_rewards, rejected_rewards)


def test_trl_dpo_trainer_sigmoid_ignores_label_smoothing(peer):
    """Why cDPO is compared with CPOTrainer: in TRL 1.16, DPOTrainer's "sigmoid" is plain DPO whatever
    label_smoothing says. If this fails, TRL changed its convention and the comparison above should move back."""
    batch, ours = peer
    smoothed, *_ = trl_dpo_trainer(batch, "sigmoid", 0.1, label_smoothing=0.1)
    plain, *_ = trl_dpo_trainer(batch, "sigmoid", 0.1)
    assert smoothed.item() == plain.item()
    assert abs(ours["dpo_smoothed"]["mean"] - plain.item()) > 1e-3


@pytest.mark.parametrize("name", ["simpo", "simpo_smoothed"])
def test_simpo_matches_cpo_trainer(peer, name):
    batch, ours = peer
    config, result = CONFIG[name], ours[name]
    chosen = batch.token_logps[:BATCH].clone().requires_grad_(True)
    rejected = batch.token_logps[BATCH:].clone().requires_grad_(True)

    def mean_logps(per_token_logps, loss_mask):  # CPOTrainer.get_batch_logps, average_log_prob=True
        return (per_token_logps * loss_mask).sum(-1) / loss_mask.sum(-1)

    losses, chosen_rewards, rejected_rewards = trl_cpo_loss(
        "simpo", config["beta"], config.get("label_smoothing", 0.0), mean_logps(chosen, batch.shift_mask[:BATCH]),
        mean_logps(rejected, batch.shift_mask[BATCH:]), gamma=config["gamma"])
    losses.mean().backward()
    expect_pair_loss_close(name, result, losses, chosen, rejected, chosen_rewards, rejected_rewards)


@pytest.mark.parametrize("name", ["bt", "bt_margin"])
def test_bradley_terry_matches_reward_trainer(peer, name):
    batch, ours = peer
    config, result = CONFIG[name], ours[name]
    with_margin = config.get("margin", False)
    loss, grad_chosen, grad_rejected = trl_reward_trainer(batch, with_margin)
    expect_close(name, "mean", result["mean"], loss)
    expect_close(name, "grad chosen", result["grad_chosen"], grad_chosen)
    expect_close(name, "grad rejected", result["grad_rejected"], grad_rejected)
    per_example = [trl_reward_trainer(batch, with_margin, rows=slice(b, b + 1))[0] for b in range(BATCH)]
    expect_close(name, "per example", result["per_example"], torch.stack(per_example))

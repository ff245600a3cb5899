"""What the align-data generator tests share: run one generator, collect failed checks, report them.

    from align_data_check import GeneratorCheck
    g = GeneratorCheck(sys.argv[1], "em-types")   # BUILD_DIR, the generator
    g.generate(out_dir, "--seed", "5")             # exits on a failed run; returns its stderr
    g.run(out_dir, "--bad", "flag")                # the CompletedProcess, for checks of refused runs
    g.check(condition, "message")
    g.finish()                                     # prints the failures; exit 1 if any, else "<name>: ok"
"""
import os
import subprocess
import sys


class GeneratorCheck:
    def __init__(self, build, command):
        self.tool = os.path.join(build, "bin", "align-data")
        self.command = command
        self.failures = []

    def check(self, condition, message):
        if not condition:
            self.failures.append(message)

    def run(self, out, *flags):
        args = [self.tool, self.command] + (["--out", out] if out is not None else []) + list(flags)
        return subprocess.run(args, capture_output=True, text=True)

    def generate(self, out, *flags):
        run = self.run(out, *flags)
        if run.returncode != 0:
            sys.exit(f"align-data {self.command} {' '.join(flags)} failed ({run.returncode}): {run.stderr}")
        return run.stderr

    def finish(self):
        for failure in self.failures[:20]:
            print("FAIL:", failure)
        if self.failures:
            print(f"{len(self.failures)} failures")
            sys.exit(1)
        print(f"{self.command}: ok")

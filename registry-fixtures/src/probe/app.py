"""A probe for `mcpkg run`'s sandbox: a command (exports wasi:cli/run) that prints what it
can see: one environment variable and the listing of the guest directory /data."""

import os

from wit_world import exports


class Run(exports.Run):
    def run(self) -> None:
        print("ENV", os.environ.get("MCPKG_PROBE", "<unset>"))
        try:
            print("DIR", ",".join(sorted(os.listdir("/data"))))
        except OSError:
            print("DIR <none>")

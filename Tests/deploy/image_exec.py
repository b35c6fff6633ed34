"""Last step of starting a container from an unpacked image root: enter the root, change to the
working directory, become the pod's user, and exec the container's command.

    python3 image_exec.py ROOT WORKDIR UID GID GROUPS NO_NEW_PRIVS DROP_CAPS ENV_JSON -- ARGV...

Run as root inside the pod's namespaces after its mounts are in place (image_sandbox.py).
Like a container runtime it drops every capability from the bounding set and sets
no_new_privs when the chart says allowPrivilegeEscalation: false. The container gets exactly
the environment in ENV_JSON (a JSON object), nothing of the caller's.
"""

import ctypes
import json
import os
import sys

PR_SET_NO_NEW_PRIVS = 38
PR_CAPBSET_DROP = 24


def main() -> None:
    sep = sys.argv.index("--")
    root, workdir, uid, gid, groups, no_new_privs, drop_caps, env_file = sys.argv[1:sep]
    argv = sys.argv[sep + 1:]
    with open(env_file) as f:
        env = json.load(f)
    libc = ctypes.CDLL(None, use_errno=True)
    os.chroot(root)
    os.chdir(workdir)
    if drop_caps == "1":
        last = int(open("/proc/sys/kernel/cap_last_cap").read()) if os.path.exists("/proc/sys/kernel/cap_last_cap") else 40
        for cap in range(last + 1):
            libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)
    os.setgroups([int(g) for g in groups.split(",") if g])
    os.setgid(int(gid))
    os.setuid(int(uid))
    if no_new_privs == "1" and libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS)")
    os.execve(argv[0], argv, env)


if __name__ == "__main__":
    main()

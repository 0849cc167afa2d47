#!/usr/bin/env python3
"""Runs tools/demo on a pseudo-terminal as a user would: waits for the
guest's greeting, types commands into its shell and reads their output,
checks the disk (the ext4 image, read with debugfs), the share (the host
folder) and a screenshot, asks the control socket for its status, leaves
with poweroff -f, and checks that no back-end is left running.
Prints "ok - ..." per check, exits 0 when all passed. Usage: demo_pty.py"""
import os
import pty
import re
import select
import subprocess
import sys
import time

TIMEOUT = float(os.environ.get("VMM_BOOT_TIMEOUT", "150"))


class Session:
    """The demo on a pty: everything it printed, and a way to type."""

    def __init__(self):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.execv("tools/demo", ["tools/demo"])
        self.out = ""

    def expect(self, regex, timeout=TIMEOUT):
        """Waits for regex in the output; returns the match or None."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            m = re.search(regex, self.out)
            if m:
                return m
            r, _, _ = select.select([self.fd], [], [], 0.5)
            if r:
                try:
                    data = os.read(self.fd, 4096)
                except OSError:
                    return re.search(regex, self.out)
                if not data:
                    return re.search(regex, self.out)
                self.out += data.decode("utf-8", "replace").replace("\r", "")
        return None

    def type(self, line):
        os.write(self.fd, (line + "\n").encode())

    def wait(self, timeout=60):
        """The demo's exit status, or None when it did not end."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            self.expect(r"\Z.", timeout=0.5)
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                return os.waitstatus_to_exitcode(status)
        os.kill(self.pid, 9)
        return None


def run(argv, timeout=30):
    """A command's output, stripped; a hang ends after timeout and says so."""
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout).stdout.strip()
    except subprocess.TimeoutExpired:
        return "%s: no answer within %d s" % (argv[0], timeout)


def check(ok, what, detail=""):
    print("%s - %s%s" % ("ok" if ok else "not ok", what, (": " + detail) if detail and not ok else ""), flush=True)
    return ok


def main():
    s = Session()
    good = True
    m = s.expect(r"work folder (/tmp/vmm-demo\.\w+)")
    if not check(m is not None, "the demo names its work folder", s.out[-800:]):
        return 1
    work = m.group(1)
    good &= check(s.expect(r"Welcome to the vmm demo guest") is not None, "the guest greets", s.out[-1500:])
    good &= check(s.expect(r"shell ready") is not None, "the shell is ready", s.out[-800:])
    greeting = s.out
    # "shell ready" comes just before the shell starts: a line typed before its
    # prompt meets the terminal's switch to line editing, and part of it is lost.
    good &= check(s.expect(r"\n/ # ") is not None, "the shell prompts", s.out[-400:])
    good &= check(re.search(r"ext4 mounted on /mnt/disk: ok", greeting) is not None, "greeting: disk mounted",
                  " / ".join(line for line in greeting.splitlines() if "/mnt/disk" in line))
    good &= check(re.search(r"/mnt/share \(virtiofsd.*: ok", greeting) is not None, "greeting: share mounted",
                  " / ".join(line for line in greeting.splitlines() if "/mnt/share" in line))
    good &= check(re.search(r"VNC at 127\.0\.0\.1:\d+", greeting) is not None, "greeting: VNC address")
    good &= check(("vmmctl %s/ctl.sock status|pause|resume" % work) in greeting, "greeting: control socket and vmmctl usage")
    s.type("cat /mnt/disk/README.txt /mnt/share/hello.txt; echo guest-wrote-$((6*7)) >/mnt/share/from-guest; "
           "echo on-the-disk-$((6*7)) >/mnt/disk/from-guest.txt; sync; echo DONE-$((1+1))")
    good &= check(s.expect(r"DONE-2") is not None, "a command typed into the guest shell runs", s.out[-600:])
    good &= check("qemu-storage-daemon serves over vhost-user-blk" in s.out, "the disk's file reads in the guest")
    good &= check("Hello from the host" in s.out, "the share's file reads in the guest")
    try:
        shared = open(os.path.join(work, "share", "from-guest")).read().strip()
    except OSError as err:
        shared = str(err)
    good &= check(shared == "guest-wrote-42", "the guest's file shows in the host folder", shared)
    disk = run(["debugfs", "-R", "cat /from-guest.txt", os.path.join(work, "disk.img")])
    good &= check(disk == "on-the-disk-42", "the guest's file is in the disk image", disk)
    status = run(["build/tools/vmmctl", work + "/ctl.sock", "status"])
    good &= check(all('"name":"%s0"' % d in status for d in ("blk", "fs", "gpu")), "vmmctl status lists blk0, fs0, gpu0", status)
    s.type("screenshot")
    m = s.expect(r"screenshot written to (\S+) \((\d+)x(\d+)\), (\d+) bytes lit")
    good &= check(m is not None and os.path.exists(m.group(1)) and int(m.group(4)) > 2000,
                  "screenshot: a PNG of the guest's screen with something drawn", s.out[-600:])
    s.type("poweroff -f")
    rc = s.wait()
    good &= check(rc == 0, "leaving the guest ends the demo with status 0", "status %r; %s" % (rc, s.out[-400:]))
    time.sleep(0.5)
    left = run(["pgrep", "-af", work])
    good &= check(left == "", "no back-end left running", left)
    good &= check(not os.path.exists(work), "the work folder is removed")
    if not good:
        print("--- the demo's terminal:")
        print(s.out[-6000:], flush=True)
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main())

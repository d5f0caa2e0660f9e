"""Two processes write to one shared file descriptor (write + lseek: both take
the file's f_pos lock, a kernel mutex that spins then sleeps) for 1 s, then
each sleeps 1 s. The sleep must be sleeping, not a lock wait."""
import os
import sys
import time

fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
pid = os.fork()
end = time.monotonic() + 1.0
buf = b"x" * 512
while time.monotonic() < end:
    os.write(fd, buf)
    os.lseek(fd, 0, os.SEEK_SET)
time.sleep(1)
if pid:
    os.waitpid(pid, 0)

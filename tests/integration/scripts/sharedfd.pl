# The same as sharedfd.py, in perl: two processes write to one shared file
# descriptor for 1 s, then sleep 1 s.
use strict;
use Time::HiRes qw(time sleep);
use Fcntl qw(SEEK_SET);
open(my $fh, '>', $ARGV[0]) or die "open: $!";
my $pid = fork();
my $end = time() + 1.0;
my $buf = 'x' x 512;
while (time() < $end) {
    syswrite($fh, $buf);
    sysseek($fh, 0, SEEK_SET);
}
sleep(1);
waitpid($pid, 0) if $pid;

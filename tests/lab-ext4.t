#!/bin/sh
# Every damage mode of the ext4 lab builds, and its ground truth makes sense.
[ "$(id -u)" = 0 ] || { echo "skip: the lab needs root for loop mounts"; exit 77; }
[ -e /dev/loop-control ] || { echo "skip: no loop devices here"; exit 77; }
exec "$TOP/tests/lab/check" ext4

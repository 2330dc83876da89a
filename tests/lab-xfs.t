#!/bin/sh
# Every damage mode of the xfs lab builds, and its ground truth makes sense;
# its directories come in every format XFS has (short-form, block, and
# leaf/node in the folder of 1500 messages), counted with xfs_db.
[ "$(id -u)" = 0 ] || { echo "skip: the lab needs root for loop mounts"; exit 77; }
[ -e /dev/loop-control ] || { echo "skip: no loop devices here"; exit 77; }
exec "$TOP/tests/lab/check" xfs

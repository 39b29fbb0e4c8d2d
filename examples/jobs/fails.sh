#!/bin/sh
#KILN --job-name=fails
# A job that fails: kiln reports FAILED with "exit code 3".
echo "about to fail" >&2
exit 3

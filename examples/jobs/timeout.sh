#!/bin/sh
#KILN --job-name=too-slow
#KILN --time=0:02
# Asks for 2 seconds and needs 60: it ends FAILED with "timed out".
sleep 60

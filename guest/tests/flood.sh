#!/bin/sh
# Writes to the console without end, for a host whose stdout nobody reads:
# the VMM must drop what does not fit, keep answering, and obey SIGTERM.
echo "VMM-GUEST: flooding the console"
yes "VMM-GUEST: flood 0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghij"

# SPDX-License-Identifier: GPL-2.0
# kselftests: the test program loads and unloads the modules itself.
PYM_MODDIR=/lib/pym /bin/pymalloc_test
rc=$?
# A test killed on timeout may leave modules behind: the leak scan and the
# next suite want them gone.
for m in test_pymalloc pym_cache pymalloc; do
	grep -q "^$m " /proc/modules && rmmod $m
done
exit $rc

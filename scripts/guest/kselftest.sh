# SPDX-License-Identifier: GPL-2.0
# kselftests: the test program loads and unloads the modules itself.
PYM_MODDIR=/lib/pym /bin/pymalloc_test

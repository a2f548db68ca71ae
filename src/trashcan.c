// SPDX-License-Identifier: GPL-2.0
/*
 * trashcan.c - release chains of any length on a bounded stack, as
 * CPython's trashcan does for its containers.
 *
 * A container's release() drops the references the object holds, and the
 * last of them runs the referent's release() inside it: a list of 10^5
 * nodes put at its head nests 10^5 releases, and a kernel stack (16 KiB,
 * 32 KiB with KASAN) holds a few hundred. CPython bounds the nesting
 * (Py_TRASHCAN_BEGIN): past 50 levels a dying container is deposited on a
 * list, which the outermost level empties.
 *
 * Here a final put of a container that finds less than half of its task
 * stack left deposits the object instead of releasing it. The object is
 * already untracked, so its collector header is free to link it; a work
 * item releases the deposited objects from the top of a fresh stack, and
 * whatever they deposit in turn goes round again. Interrupt handlers that
 * run on a stack of their own cannot tell their depth from the stack
 * pointer; they cannot sleep or migrate either, so a per-CPU count of the
 * releases nested there is exact, and past PYM_TRASH_IRQ_DEPTH levels
 * they deposit too.
 *
 * A deposited object's release() runs in the work item, in process
 * context: the most a release() can ask for. The types' live counts keep
 * it until then; unregistration, a module going away and pym_gc_collect()
 * wait for the trashcan to be empty (pym_trash_flush()).
 *
 * Objects of types that are not containers have no header to link them:
 * a type whose objects hold references to other objects is a container
 * (see struct pym_type), which also makes its chains safe.
 */
#define pr_fmt(fmt) "pymalloc: " fmt

#include <linux/llist.h>
#include <linux/percpu.h>
#include <linux/sched/task_stack.h>
#include <linux/workqueue.h>

#include "compat.h"
#include "internal.h"

/* Releases nested in interrupt handlers on their own stacks, per CPU. */
#define PYM_TRASH_IRQ_DEPTH	16

static LLIST_HEAD(trash);
static DEFINE_PER_CPU(unsigned int, irq_depth);
static atomic_long_t deposited;
/* Deposited and not yet released, wherever they are in between. */
static atomic_long_t pending;

static void trash_work_fn(struct work_struct *work);
static DECLARE_WORK(trash_work, trash_work_fn);

static struct llist_node *trash_node(struct pym_object *obj)
{
	BUILD_BUG_ON(sizeof(struct llist_node) > sizeof(struct pym_gc_head));
	return (struct llist_node *)pym_obj_gc_head(obj);
}

/* Bytes of task stack left below the caller, or -1 off the task stack. */
static long stack_left(void)
{
	unsigned long here = (unsigned long)__builtin_frame_address(0);
	unsigned long base = (unsigned long)task_stack_page(current);

	if (!object_is_on_stack((void *)here))
		return -1;
#ifdef CONFIG_STACK_GROWSUP
	return base + THREAD_SIZE - here;
#else
	return here - base;
#endif
}

/*
 * pym_trash_enter() off the upper half of the task stack.
 * PYM_TRASH_IRQ_NESTED is paired with pym_trash_leave() after the release.
 */
enum pym_trash_depth pym_trash_enter_slow(struct pym_object *obj)
{
	long left = stack_left();

	if (likely(left >= (long)(THREAD_SIZE / 2)))
		return PYM_TRASH_ON_STACK;
	if (left < 0) {
		if (this_cpu_inc_return(irq_depth) <= PYM_TRASH_IRQ_DEPTH)
			return PYM_TRASH_IRQ_NESTED;
		this_cpu_dec(irq_depth);
	}
	atomic_long_inc(&deposited);
	atomic_long_inc(&pending);
	if (llist_add(trash_node(obj), &trash))
		queue_work(system_unbound_wq, &trash_work);
	return PYM_TRASH_DEPOSITED;
}

void pym_trash_leave(void)
{
	this_cpu_dec(irq_depth);
}

/* Release what is deposited now, oldest first. */
static void trash_empty(void)
{
	struct llist_node *node, *next;

	node = llist_reverse_order(llist_del_all(&trash));
	llist_for_each_safe(node, next, node) {
		pym_obj_release(pym_gc_head_obj((struct pym_gc_head *)node));
		atomic_long_dec(&pending);
		cond_resched();
	}
}

static void trash_work_fn(struct work_struct *work)
{
	trash_empty();
}

/*
 * Every deposited object released, including what their releases
 * deposited in turn. The work item may hold a batch it took from the list,
 * and run again for what that batch deposits: count, do not look at the
 * list. Sleeps.
 */
void pym_trash_flush(void)
{
	might_sleep();
	while (atomic_long_read(&pending)) {
		trash_empty();
		flush_work(&trash_work);
		cond_resched();
	}
}
EXPORT_SYMBOL_IF_KUNIT(pym_trash_flush);

/* Objects deposited so far. */
u64 pym_trash_deposited(void)
{
	return atomic_long_read(&deposited);
}
EXPORT_SYMBOL_IF_KUNIT(pym_trash_deposited);

// SPDX-License-Identifier: GPL-2.0
/*
 * pym_graph.c - how to use the cycle collector: nodes of a graph that
 * refer to each other, freed even when they form cycles.
 *
 *  - The node type is a container: it has traverse(), which visits every
 *    reference a node holds to another pym object, and clear(), which
 *    drops them. Its release() drops them too, for nodes that die by
 *    their reference count alone.
 *  - Every reference stored in a node is counted, and is created, changed,
 *    removed or followed only under pym_gc_lock().
 *  - The module holds one reference per node it names (slots 0..N-1);
 *    dropping it leaves a node to its reference count, and a node in a
 *    cycle to the collector.
 *
 * debugfs, /sys/kernel/debug/pym_graph/:
 *   ctl    write "new ID" (a node in slot ID), "link A B" (node A refers to
 *          node B), "unlink A B", "drop ID" (the module lets go of slot ID);
 *          A, B and ID are slots 0..63 holding a node.
 *          read: "nodes N" (alive), "released N" (died so far)
 */
#include <linux/debugfs.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/seq_file.h>
#include <linux/uaccess.h>

#include <pymalloc_object.h>

#define GRAPH_SLOTS	64
#define NODE_REFS	4

struct graph_node {
	struct pym_object obj;		/* first, like PyObject_HEAD */
	struct pym_object *ref[NODE_REFS];
};

static atomic_long_t nodes, released;

static struct graph_node *to_graph_node(struct pym_object *obj)
{
	return container_of(obj, struct graph_node, obj);
}

static int graph_traverse(struct pym_object *obj, pym_visit_t visit, void *arg)
{
	struct graph_node *n = to_graph_node(obj);
	unsigned int i;
	int ret;

	for (i = 0; i < NODE_REFS; i++) {
		if (!n->ref[i])
			continue;
		ret = visit(n->ref[i], arg);
		if (ret)
			return ret;
	}
	return 0;
}

/* NULL first, then put: a put may free what refers back to this node. */
static void graph_clear(struct pym_object *obj)
{
	struct graph_node *n = to_graph_node(obj);
	struct pym_object *r;
	unsigned int i;

	for (i = 0; i < NODE_REFS; i++) {
		r = n->ref[i];
		n->ref[i] = NULL;
		if (r)
			pym_obj_put(r);
	}
}

static void graph_release(struct pym_object *obj)
{
	graph_clear(obj);
	atomic_long_dec(&nodes);
	atomic_long_inc(&released);
}

static struct pym_type node_type = {
	.name = "pym_graph_node",
	.size = sizeof(struct graph_node),
	.release = graph_release,
	.traverse = graph_traverse,
	.clear = graph_clear,
};

static DEFINE_MUTEX(slots_lock);
static struct pym_object *slot[GRAPH_SLOTS];	/* the module's references */
static struct dentry *dir;

static int new_node(unsigned long id)
{
	if (slot[id])
		return -EEXIST;
	slot[id] = pym_obj_new(&node_type, GFP_KERNEL);
	if (!slot[id])
		return -ENOMEM;
	atomic_long_inc(&nodes);
	return 0;
}

static int link_node(unsigned long a, unsigned long b)
{
	struct graph_node *n = to_graph_node(slot[a]);
	unsigned int i;
	int err = -ENOSPC;

	pym_gc_lock();
	for (i = 0; i < NODE_REFS; i++)
		if (!n->ref[i]) {
			n->ref[i] = pym_obj_get(slot[b]);
			err = 0;
			break;
		}
	pym_gc_unlock();
	return err;
}

static int unlink_node(unsigned long a, unsigned long b)
{
	struct graph_node *n = to_graph_node(slot[a]);
	struct pym_object *r = NULL;
	unsigned int i;

	pym_gc_lock();
	for (i = 0; i < NODE_REFS; i++)
		if (n->ref[i] == slot[b]) {
			r = n->ref[i];
			n->ref[i] = NULL;
			break;
		}
	pym_gc_unlock();
	if (!r)
		return -ENOENT;
	pym_obj_put(r);
	return 0;
}

static void drop_node(unsigned long id)
{
	pym_obj_put(slot[id]);
	slot[id] = NULL;
}

static ssize_t ctl_write(struct file *file, const char __user *ubuf,
			 size_t len, loff_t *ppos)
{
	char buf[64], cmd[16];
	unsigned long a = 0, b = 0;
	int n, err = -EINVAL;

	if (!len || len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = '\0';
	n = sscanf(buf, "%15s %lu %lu", cmd, &a, &b);
	if (n < 2 || a >= GRAPH_SLOTS || (n == 3 && b >= GRAPH_SLOTS))
		return -EINVAL;

	mutex_lock(&slots_lock);
	if (!strcmp(cmd, "new") && n == 2)
		err = new_node(a);
	else if (n == 2 && !strcmp(cmd, "drop") && slot[a])
		err = (drop_node(a), 0);
	else if (n == 3 && slot[a] && slot[b] && !strcmp(cmd, "link"))
		err = link_node(a, b);
	else if (n == 3 && slot[a] && slot[b] && !strcmp(cmd, "unlink"))
		err = unlink_node(a, b);
	mutex_unlock(&slots_lock);
	return err ? err : len;
}

static int ctl_show(struct seq_file *m, void *v)
{
	seq_printf(m, "nodes %ld\nreleased %ld\n", atomic_long_read(&nodes),
		   atomic_long_read(&released));
	return 0;
}

static int ctl_open(struct inode *inode, struct file *file)
{
	return single_open(file, ctl_show, NULL);
}

static const struct file_operations ctl_fops = {
	.owner = THIS_MODULE,
	.open = ctl_open,
	.read = seq_read,
	.write = ctl_write,
	.llseek = seq_lseek,
	.release = single_release,
};

static int __init pym_graph_init(void)
{
	int err = pym_type_register(&node_type);

	if (err)
		return err;
	dir = debugfs_create_dir("pym_graph", NULL);
	debugfs_create_file("ctl", 0600, dir, NULL, &ctl_fops);
	return 0;
}

/* Cycles left behind are the collector's: collect before unregistering. */
static void __exit pym_graph_exit(void)
{
	unsigned int i;

	debugfs_remove(dir);
	for (i = 0; i < GRAPH_SLOTS; i++)
		if (slot[i])
			drop_node(i);
	pym_gc_collect(2);
	pym_type_unregister(&node_type);
}

module_init(pym_graph_init);
module_exit(pym_graph_exit);
MODULE_DESCRIPTION("pymalloc example: a graph of refcounted nodes whose cycles the collector frees");
MODULE_LICENSE("GPL");

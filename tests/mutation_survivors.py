"""Survivors of the mutation suite on the specs under specs/, with the analysis of each.

`tests/test_mutations.py` runs `migcheck mutate` on every spec. A mutant that no
fixed scenario kills is either declared harmless in the spec, beside its
statement (`// mutant-harmless OPERATOR: REASON`), or recorded here, keyed by
spec (relative to specs/) and mutant label (function: edit, no line numbers):

- HARMLESS: the edit cannot change what the protocol guarantees (the spec's
  authors may move the reason into the spec as a declaration);
- WEAKNESS: the edit is a bug the fixed scenarios cannot show (their reach, a
  property they lack, or an abstraction of the model); fix the spec, the model
  library or the checker, then remove the entry.

A survivor missing here fails the test, and so does an entry whose mutant is
now killed or gone (`make test-slow` runs every mutant).
"""

from __future__ import annotations

HARMLESS, WEAKNESS = "harmless", "weakness"

IRQ_TREE_NESTED = (WEAKNESS, (
    "both users of tree_lock in this shape take it nested inside move_lock, which already "
    "excludes the other one, so a trylock of it never fails and its critical section never "
    "races; the kernel's other tree_lock users (page cache insertion and deletion, the "
    "radix-tree writeback tag) are left out of the shape"
))

IRQ_MEMCG_STATS = (WEAKNESS, (
    "lock_page_memcg() keeps the page's memcg stable for the statistics updated under it "
    "(account_page_cleaned(), the NR_WRITEBACK decrement) while charges move; the shape "
    "models neither the statistics nor a charge move, only the interrupt state, so where "
    "move_lock is dropped inside the section changes nothing it can see"
))

IRQ_WB_TAG = (WEAKNESS, (
    "TestClearPageWriteback() runs under tree_lock for the radix-tree writeback tag, which "
    "the shape leaves out: nothing else reads page_writeback under tree_lock"
))

ASYNC = (WEAKNESS, (
    "compaction only trylocks the page (MIGRATE_ASYNC, isolation) so that it never sleeps "
    "on a page lock whose holder may be the task compacting (direct compaction under a page "
    "lock); no scenario has such a holder"
))

BALLOONEXCUSED = (WEAKNESS, (
    "invariant balloon_pages_accounted is only checked while neither pages_lock nor "
    "balloon_lock is held, and this section runs under balloon_lock, so the unlocked window "
    "is never checked; with each list operation one step (models/list.mig) nothing else can "
    "see it either"
))

CHAIN_FRESH = (HARMLESS, (
    "the migrator trylocks the target page it has just allocated, and the shape asserts "
    "that the trylock succeeds: nothing else can hold that lock, so a lock never waits"
))

EXCHANGE_ASYNC = (WEAKNESS, (
    "in MIGRATE_ASYNC the exchanger only trylocks the pages; in the fixed async scenario "
    "the other holder of a page lock (page_locker) waits for nothing the exchanger holds, "
    "so a sleeping lock_page() deadlocks nothing; a second exchanger locking the pair in "
    "the other order would (exchange_abba_unisolated shows that cycle for the sync path)"
))

NEWPAGE = (WEAKNESS, (
    "the target page's lock is only ever tried here and nothing in the scenarios holds it; "
    "the kernel allows a race with the page's previous user (__unmap_and_move(): \"We used "
    "to have a BUG here if trylock_page(newpage) fails\"), on which this edit unlocks a page "
    "not held or sleeps on a page lock while holding another. A thread holding the fresh "
    "page's lock would kill it"
))

NOTRELEASED = (WEAKNESS, (
    "no page is released by its owner while isolated in the fixed scenarios, so the "
    "released-after-isolation branch never runs and the edit is invisible"
))

SHAPE_RLOCK_RETRY = (WEAKNESS, (
    "the free worker's second read_lock() never meets the migrator's write lock in the "
    "scenario, so a trylock whose failure is ignored behaves the same"
))

SHAPE_WAITQ_CLEAR = (WEAKNESS, (
    "clearing PG_waiters after every wake-up, even with a waiter still queued, loses that "
    "waiter's next wake-up only if the page is locked again before it retries; the shape "
    "has no third task that locks the page"
))

ZRAM_SWAPINFO = (WEAKNESS, (
    "swap_info_lock has one user in the scenarios (the free notification), so dropping or "
    "shortening it changes nothing they can see"
))

ZS4_COVERMOVE = (HARMLESS, (
    "the statement crossed is a cover() of the scenario, not protocol code: moving the "
    "unlock above it changes no access"
))

ZS4_INITTRYLOCK = (HARMLESS, (
    "init_zspage() trylocks pages of a zspage still being built, not yet movable, so "
    "nothing else can hold them (SetZsPageMovable()'s WARN_ON(!trylock_page)): a lock never "
    "waits"
))

ZS4_ISOLATEDREAD = (HARMLESS, (
    "isolated changes only under class->lock (isolate, migrate, putback), which zs_free() "
    "still holds after the moved read unlock, so the value read is the same"
))

ZS4_ISOLATE_CHECKS = (WEAKNESS, (
    "zs_page_isolate()'s checks (empty zspage, unlisted zspage being built, already "
    "isolated) never fail in the fixed scenarios, which isolate only a listed, non-empty "
    "zspage once"
))

ZS4_ISOLATE_TRYLOCK = (HARMLESS, (
    "the merged zs_page_isolate() takes class->lock with spin_lock(); waiting here under "
    "the page lock deadlocks only with a class->lock holder that waits for this page's lock "
    "(v3's synchronous free), absent from this variant"
))

ZS4_SETMOVABLE = (WEAKNESS, (
    "not analysed to the end: with SetZsPageMovable() after the class unlock a compactor "
    "may isolate the first subpage while the next is still being marked; the kernel marks "
    "the pages under class->lock (\"We completely set up zspage so mark them as movable\"), "
    "and the fixed alloc scenarios show no property broken by the later marking"
))

ZS5_FINDZSPAGE = (WEAKNESS, (
    "find_get_zspage() looks at one zspage in the scenarios; its listed/fullness terms "
    "matter only with a second, full or unlisted zspage, which is not modelled"
))

ZS5_FREELOCK = (WEAKNESS, (
    "the free worker is the only thread on its class->lock sections in the scenario that "
    "runs it (free_vs_compaction: no zs_malloc, no second free), so dropping or shortening "
    "them changes nothing it can see"
))

ZS5_FREESLOT = (WEAKNESS, (
    "the class's zspage array always has a free slot in the scenarios, so the search never "
    "fails"
))

ZS5_INCOMPLETE = (WEAKNESS, (
    "incomplete: the mutant's state space outgrows ten times the scenario's own; it is not "
    "known to survive, only not killed within the limit"
))

ZS5_INFREE = (WEAKNESS, (
    "__free_zspage() finds the zspage in the class's array in every run, so the test never "
    "fails"
))

ZS5_MALLOCLOCK = (WEAKNESS, (
    "one zs_malloc() per scenario and no zs_free() of the same class while it allocates: "
    "class->lock never meets another user in zs_malloc()'s sections"
))

ZS5_MIGRATEUNLOCK = (WEAKNESS, (
    "dec_zspage_isolation() (isolation_under_class_lock) is only a counter, and no second "
    "isolation of the same zspage runs in the fixed scenarios, so releasing the pool and "
    "zspage locks before it changes nothing they can see"
))

ZS_CLASSLOCK = (WEAKNESS, (
    "class->lock orders zs_malloc(), zs_free(), compaction and migration on one class; the "
    "fixed scenarios have at most one of each, and the handle pins already order them, so "
    "the lock never matters"
))

ZS_NEVEREMPTY = (WEAKNESS, (
    "the zspage never becomes empty in the fixed scenarios (zs_free() leaves the other "
    "object), so the inuse == 0 bail-out never runs"
))

ZS_ONEISOLATED = (WEAKNESS, (
    "at most one subpage is isolated at a time in the fixed scenarios, so isolated only "
    "goes 1 -> 0 and the test of 0 never fails"
))

ZS_PAGELOCK = (WEAKNESS, (
    "no other thread takes the old page's lock in these scenarios (no free_zspage(), no "
    "second compactor), so the migrator's page lock never contends"
))

ZS_PIN_MAP = (WEAKNESS, (
    "the pin also excludes zsmalloc's own compaction (__zs_compact() -> migrate_zspage() "
    "trypins objects under class->lock only, without the zspage lock), which is not "
    "modelled; with it, unpinning before the object read or the unmap lets compaction move "
    "the object away"
))

ZS_PUTBACKASSERT = (WEAKNESS, (
    "the spec's putback path lacks putback_movable_pages()' "
    "VM_BUG_ON_PAGE(!PageIsolated(page)); with that assertion clearing PG_isolated on a "
    "failed migration would be caught (isolate_putback.mig has it)"
))

ZS_READLOCK_FREE = (WEAKNESS, (
    "the freeing thread holds the pin, so migration backs off without the read lock; the "
    "read lock matters against migration of another subpage and for the empty-zspage path, "
    "which zs_free() never takes here"
))

ZS_READLOCK_MAP = (WEAKNESS, (
    "one subpage per zspage here: the handle pin alone keeps migration (which trypins every "
    "object) off the object, so the zspage read lock is redundant; it is needed for an "
    "object that spans two subpages and against free_zspage(), neither modelled"
))

ZS_SWAPNEWPAGE = (WEAKNESS, (
    "trylock_page(newpage) never fails here, so its failure path, which this swap breaks "
    "(it unlocks the old page before locking it), never runs; the kernel allows the failure "
    "(a race with the page's previous user)"
))

ZS_UNLOCKBEFORECLEAR = (WEAKNESS, (
    "clearing PG_isolated after the unlock races with a second compactor's isolation (a "
    "lost non-atomic update, or a double isolation); one migrator here"
))

ZS_WRITELOCK = (WEAKNESS, (
    "migration trypins every object of the page, which with one subpage per zspage excludes "
    "every user; the write lock matters for objects spanning subpages and for "
    "free_zspage(), not modelled"
))

SWAPOFF_LOCKS = (WEAKNESS, (
    "swap_lock and p->lock order swapoff() against the other users of the swap_info "
    "(swapon()'s enable_swap_info(), the allocator's scan_swap_map_slots() and "
    "SWP_SCANNING, get_swap_pages(), /proc/swaps), none of which the spec models; the "
    "swap-in takes neither (get_swap_device() reads si->flags and si->max unlocked, and on "
    "this SSD-style device __swap_duplicate() takes the cluster lock), and with "
    "eb085574a752 its safety rests on SWP_VALID and the grace period, so the fixed "
    "scenario cannot see these edits"
))

SWAP_CLUSTER = (WEAKNESS, (
    "the swap-in is the only task on the cluster lock in the scenarios; the lock serializes "
    "the swap_map updates of one cluster between tasks (swap_free(), other duplicates), "
    "which are not modelled"
))

SURVIVORS: dict[str, dict[str, tuple[str, str]]] = {
    "balloon/balloon_compaction.mig": {
        "virtballoon_migratepage: moved spin_unlock(&b_dev_info.pages_lock) above `page->owner.isolated = false;`":
            BALLOONEXCUSED,
        "isolate_movable_page: trylock_page(page) replaced by lock_page(page), which waits and succeeds":
            ASYNC,
        "__unmap_and_move: trylock_page(newpage) replaced by lock_page(newpage), which waits and succeeds":
            NEWPAGE,
    },
    "exchange/exchange_pages.mig": {
        "unmap_and_exchange: trylock_page(first) replaced by lock_page(first), which waits and succeeds":
            EXCHANGE_ASYNC,
        "unmap_and_exchange: trylock_page(second) replaced by lock_page(second), which waits and succeeds":
            EXCHANGE_ASYNC,
    },
    "migrate/isolate_putback.mig": {
        "isolate_movable_page: trylock_page(page) replaced by lock_page(page), which waits and succeeds":
            ASYNC,
        "__unmap_and_move: trylock_page(page) replaced by lock_page(page), which waits and succeeds":
            ASYNC,
        "__unmap_and_move: trylock_page(newpage) replaced by lock_page(newpage), which waits and succeeds":
            NEWPAGE,
    },
    "shapes/chain_walk.mig": {
        "migrator: trylock_page(newpage) replaced by lock_page(newpage), which waits and succeeds":
            CHAIN_FRESH,
        "lock_zspage_fixed: read_lock(&zspage.lock) replaced by read_trylock(&zspage.lock), its failure ignored (2)":
            SHAPE_RLOCK_RETRY,
    },
    "shapes/nonatomic_flag_clear.mig": {
        "wake_up_page_bit: dropped the check `!waitqueue_active(&page_wait)`: its branch always runs":
            SHAPE_WAITQ_CLEAR,
    },
    "zram/slot_vs_migration.mig": {
        "swap_slot_free: dropped ranked_spin_lock(&swap_info_lock, LO_PAGE) and its unlock":
            ZRAM_SWAPINFO,
        "swap_slot_free: moved ranked_spin_unlock(&swap_info_lock, LO_PAGE) above `zram_slot_free_notify(index);`":
            ZRAM_SWAPINFO,
    },
    "zsmalloc/map_vs_migrate.mig": {
        "zs_map_object: dropped migrate_read_lock(zspage) and its unlock":
            ZS_READLOCK_MAP,
        "zs_map_object: moved migrate_read_unlock(zspage) above `zspage = get_zspage(page);`":
            ZS_READLOCK_MAP,
        "zs_map_object: moved migrate_read_unlock(zspage) above `obj = handle->val;`":
            ZS_READLOCK_MAP,
        "zs_map_object: moved migrate_read_unlock(zspage) above `struct zs_handle *head = page->mem->obj[obj.idx...`":
            ZS_READLOCK_MAP,
        "zs_map_object: moved unpin_tag(handle) above `zspage = get_zspage(page);`":
            ZS_PIN_MAP,
        "zs_map_object: moved unpin_tag(handle) above `obj = handle->val;`":
            ZS_PIN_MAP,
        "zs_map_object: moved unpin_tag(handle) above `struct zs_handle *head = page->mem->obj[obj.idx...`":
            ZS_PIN_MAP,
        "zs_free: dropped migrate_read_lock(zspage) and its unlock":
            ZS_READLOCK_FREE,
        "zs_free: dropped spin_lock(&zs_class.lock) and its unlock":
            ZS_CLASSLOCK,
        "zs_page_migrate: dropped migrate_write_lock(zspage) and its unlock":
            ZS_WRITELOCK,
        "zs_page_migrate: dropped spin_lock(&zs_class.lock) and its unlock":
            ZS_CLASSLOCK,
        "zs_page_migrate: dropped the check `zspage->inuse == 0`: its bail-out is never taken":
            ZS_NEVEREMPTY,
        "zs_page_migrate: dropped the check `zspage->bits.isolated == 0`: its branch always runs":
            ZS_ONEISOLATED,
        "zs_page_putback: dropped spin_lock(&zs_class.lock) and its unlock":
            ZS_CLASSLOCK,
        "zs_page_putback: dropped the check `zspage->bits.isolated == 0`: its branch always runs":
            ZS_ONEISOLATED,
        "zs_page_putback: moved spin_unlock(&zs_class.lock) above `if (zspage->bits.isolated == 0) zspage->listed...`":
            ZS_CLASSLOCK,
        "zs_page_putback: moved spin_unlock(&zs_class.lock) above `zspage->bits.isolated--;`":
            ZS_CLASSLOCK,
        "migrate_page: swapped lock_page(page) and trylock_page(newpage)":
            ZS_SWAPNEWPAGE,
        "migrate_page: lock_page(page) replaced by trylock_page(page), its failure ignored":
            ZS_PAGELOCK,
        "migrate_page: trylock_page(newpage) replaced by lock_page(newpage), which waits and succeeds":
            NEWPAGE,
        "migrate_page: dropped the check `!PageMovable(page)`: the else branch always runs":
            NOTRELEASED,
        "migrate_page: dropped the check `rc == MIGRATEPAGE_SUCCESS && __PageMovable(page)`: its branch always runs":
            ZS_PUTBACKASSERT,
        "migrate_page: lock_page(page) replaced by trylock_page(page), its failure ignored (2)":
            ZS_PAGELOCK,
        "migrate_page: dropped the check `PageMovable(page)`: its branch always runs":
            NOTRELEASED,
        "migrate_page: moved unlock_page(page) above `__ClearPageIsolated(page);`":
            ZS_UNLOCKBEFORECLEAR,
    },
    "zsmalloc/migrate_lock.mig": {
        "__free_zspage: dropped the check `zs_class.zspages[i] == zspage`: its branch always runs":
            ZS5_INFREE,
        "async_free_zspage: dropped zs_class_lock() and its unlock":
            ZS5_FREELOCK,
        "async_free_zspage: dropped `zspage->listed` from the check `zspage != null && zspage->listed && zspage->bits.fullness...`":
            ZS5_FINDZSPAGE,
        "async_free_zspage: dropped `zspage->bits.fullness == ZS_EMPTY` from the check `zspage != null && zspage->listed && zspage->bits.fullness...`":
            ZS5_FINDZSPAGE,
        "async_free_zspage: moved zs_class_unlock() above `for (i = 0; i < NR_ZSPAGES; i++) {            /...`":
            ZS5_FREELOCK,
        "async_free_zspage: dropped zs_class_lock() and its unlock (2)":
            ZS5_FREELOCK,
        "async_free_zspage: moved zs_class_unlock() above `__free_zspage(zspage);`":
            ZS5_FREELOCK,
        "find_get_zspage: dropped the check `zspage != null && zspage->listed && zspage->bits.fullness...`: its bail-out is never taken":
            ZS5_INCOMPLETE,
        "find_get_zspage: dropped `zspage->listed` from the check `zspage != null && zspage->listed && zspage->bits.fullness...`":
            ZS5_FINDZSPAGE,
        "find_get_zspage: dropped `zspage->bits.fullness != ZS_FULL` from the check `zspage != null && zspage->listed && zspage->bits.fullness...`":
            ZS5_FINDZSPAGE,
        "zs_malloc: moved zs_class_unlock() above `if (zspage != null) { obj = obj_malloc(zspage,...`":
            ZS5_MALLOCLOCK,
        "zs_malloc: moved zs_class_unlock() above `zspage = find_get_zspage();`":
            ZS5_MALLOCLOCK,
        "zs_malloc: dropped zs_class_lock() and its unlock":
            ZS5_MALLOCLOCK,
        "zs_malloc: dropped the check `zs_class.zspages[i] == null`: its bail-out is never taken":
            ZS5_FREESLOT,
        "zs_malloc: moved zs_class_unlock() above `SetZsPageMovable(zspage);`":
            ZS5_MALLOCLOCK,
        "zs_malloc: moved zs_class_unlock() above `handle->val = obj;` (2)":
            ZS5_MALLOCLOCK,
        "zs_malloc: moved zs_class_unlock() above `set_zspage_mapping(zspage, newfg);`":
            ZS5_MALLOCLOCK,
        "zs_malloc: moved zs_class_unlock() above `for (i = 0; i < NR_ZSPAGES; i++) {            /...`":
            ZS5_MALLOCLOCK,
        "zs_malloc: moved zs_class_unlock() above `insert_zspage(zspage);`":
            ZS5_MALLOCLOCK,
        "zs_malloc: moved zs_class_unlock() above `newfg = get_fullness_group(zspage);`":
            ZS5_MALLOCLOCK,
        "zs_malloc: moved zs_class_unlock() above `obj = obj_malloc(zspage, handle);` (2)":
            ZS5_MALLOCLOCK,
        "zs_page_migrate: moved zs_pool_write_unlock() above `if (isolation_under_class_lock) dec_zspage_isol...`":
            ZS5_MIGRATEUNLOCK,
        "zs_page_migrate: moved migrate_write_unlock(zspage) above `if (isolation_under_class_lock) dec_zspage_isol...`":
            ZS5_MIGRATEUNLOCK,
    },
    "zsmalloc/migration.mig": {
        "__free_zspage: dropped the check `zs_class.zspages[i] == zspage`: its branch always runs":
            ZS5_INFREE,
        "async_free_zspage: dropped `zspage->listed` from the check `zspage != null && zspage->listed && zspage->bits.fullness...`":
            ZS5_FINDZSPAGE,
        "init_zspage: trylock_page(page) replaced by lock_page(page), which waits and succeeds":
            ZS4_INITTRYLOCK,
        "find_get_zspage: dropped `zspage->bits.fullness != ZS_FULL` from the check `zspage != null && zspage->listed && zspage->bits.fullness...`":
            ZS5_FINDZSPAGE,
        "zs_malloc: dropped the check `zs_class.zspages[i] == null`: its bail-out is never taken":
            ZS5_FREESLOT,
        "zs_malloc: moved spin_unlock(&zs_class.lock) above `if (!movable_at_init) SetZsPageMovable(zspage);`":
            ZS4_SETMOVABLE,
        "zs_map_read_unmap: dropped pin_tag(handle) and its unlock":
            ZS_PIN_MAP,
        "zs_map_read_unmap: pin_tag(handle) replaced by trypin_tag(handle), its failure ignored":
            ZS_PIN_MAP,
        "zs_map_read_unmap: dropped migrate_read_lock(zspage) and its unlock":
            ZS_READLOCK_MAP,
        "zs_map_read_unmap: moved migrate_read_unlock(zspage) above `zspage = get_zspage(page);`":
            ZS_READLOCK_MAP,
        "zs_map_read_unmap: moved migrate_read_unlock(zspage) above `obj = handle->val;`":
            ZS_READLOCK_MAP,
        "zs_map_read_unmap: moved migrate_read_unlock(zspage) above `struct zs_handle *head = page->mem->obj[obj.idx];`":
            ZS_READLOCK_MAP,
        "zs_map_read_unmap: moved unpin_tag(handle) above `zspage = get_zspage(page);`":
            ZS_PIN_MAP,
        "zs_map_read_unmap: moved unpin_tag(handle) above `obj = handle->val;`":
            ZS_PIN_MAP,
        "zs_map_read_unmap: moved unpin_tag(handle) above `struct zs_handle *head = page->mem->obj[obj.idx];`":
            ZS_PIN_MAP,
        "zs_free: dropped migrate_read_lock(zspage) and its unlocks":
            ZS_READLOCK_FREE,
        "zs_free: moved migrate_read_unlock(zspage) above `isolated = zspage->bits.isolated != 0;`":
            ZS4_ISOLATEDREAD,
        "zs_page_isolate: spin_trylock(&zs_class.lock) replaced by spin_lock(&zs_class.lock), which waits and succeeds":
            ZS4_ISOLATE_TRYLOCK,
        "zs_page_isolate: dropped the check `zspage->inuse == 0`: its bail-out is never taken":
            ZS4_ISOLATE_CHECKS,
        "zs_page_isolate: dropped the check `!zspage->listed && zspage->bits.isolated == 0`: its bail-out is never taken":
            ZS4_ISOLATE_CHECKS,
        "zs_page_isolate: dropped `zspage->listed` from the check `zspage->listed && zspage->bits.isolated == 0`":
            ZS4_ISOLATE_CHECKS,
        "zs_page_isolate: dropped `zspage->bits.isolated == 0` from the check `zspage->listed && zspage->bits.isolated == 0`":
            ZS4_ISOLATE_CHECKS,
        "zs_page_isolate: moved spin_unlock(&zs_class.lock) above `if (cover_both_isolated) cover(zspage->bits.iso...`":
            ZS4_COVERMOVE,
        "zs_page_migrate: dropped migrate_write_lock(zspage) and its unlock":
            ZS_WRITELOCK,
        "zs_page_migrate: dropped the check `zspage->bits.isolated == 0`: its branch always runs":
            ZS_ONEISOLATED,
        "zs_page_putback: dropped the check `zspage->bits.isolated == 0`: its branch always runs":
            ZS_ONEISOLATED,
    },
    "shapes/irq_enable_under_lock.mig": {
        "unlocked_inode_to_wb_begin: spin_lock_irq(&tree_lock) replaced by spin_trylock(&tree_lock), its failure ignored":
            IRQ_TREE_NESTED,
        "truncate: moved unlock_page_memcg(memcg_flags) above `bool wb_flags = unlocked_inode_to_wb_begin();`":
            IRQ_MEMCG_STATS,
        "end_io: moved spin_unlock_irqrestore(&tree_lock, flags) above `page_writeback = false;`":
            IRQ_WB_TAG,
        "end_io: moved unlock_page_memcg(memcg_flags) above `page_writeback = false;`":
            IRQ_MEMCG_STATS,
    },
    "swap/swapoff_vs_swap_duplicate.mig": {
        "lock_cluster: spin_lock(&ci->lock) replaced by spin_trylock(&ci->lock), its failure ignored":
            SWAP_CLUSTER,
        "swapoff: dropped spin_lock(&swap_lock) and its unlock":
            SWAPOFF_LOCKS,
        "swapoff: swapped spin_lock(&swap_lock) and spin_lock(&p->lock)":
            SWAPOFF_LOCKS,
        "swapoff: spin_lock(&swap_lock) replaced by spin_trylock(&swap_lock), its failure ignored":
            SWAPOFF_LOCKS,
        "swapoff: dropped spin_lock(&p->lock) and its unlock":
            SWAPOFF_LOCKS,
        "swapoff: spin_lock(&p->lock) replaced by spin_trylock(&p->lock), its failure ignored":
            SWAPOFF_LOCKS,
        "swapoff: moved spin_unlock(&p->lock) above `p->flags.SWP_VALID = false;`":
            SWAPOFF_LOCKS,
        "swapoff: moved spin_unlock(&swap_lock) above `p->flags.SWP_VALID = false;`":
            SWAPOFF_LOCKS,
        "swapoff: dropped spin_lock(&swap_lock) and its unlock (2)":
            SWAPOFF_LOCKS,
        "swapoff: swapped spin_lock(&swap_lock) and spin_lock(&p->lock) (2)":
            SWAPOFF_LOCKS,
        "swapoff: spin_lock(&swap_lock) replaced by spin_trylock(&swap_lock), its failure ignored (2)":
            SWAPOFF_LOCKS,
        "swapoff: dropped spin_lock(&p->lock) and its unlock (2)":
            SWAPOFF_LOCKS,
        "swapoff: spin_lock(&p->lock) replaced by spin_trylock(&p->lock), its failure ignored (2)":
            SWAPOFF_LOCKS,
        "swapoff: moved spin_unlock(&p->lock) above `p->cluster_info = null;`":
            SWAPOFF_LOCKS,
        "swapoff: moved spin_unlock(&p->lock) above `cluster_info = p->cluster_info;`":
            SWAPOFF_LOCKS,
        "swapoff: moved spin_unlock(&p->lock) above `p->swap_map = null;`":
            SWAPOFF_LOCKS,
        "swapoff: moved spin_unlock(&p->lock) above `swap_map = p->swap_map;`":
            SWAPOFF_LOCKS,
        "swapoff: moved spin_unlock(&p->lock) above `p->max = 0;`":
            SWAPOFF_LOCKS,
        "swapoff: moved spin_unlock(&swap_lock) above `p->cluster_info = null;`":
            SWAPOFF_LOCKS,
        "swapoff: moved spin_unlock(&swap_lock) above `cluster_info = p->cluster_info;`":
            SWAPOFF_LOCKS,
        "swapoff: moved spin_unlock(&swap_lock) above `p->swap_map = null;`":
            SWAPOFF_LOCKS,
        "swapoff: moved spin_unlock(&swap_lock) above `swap_map = p->swap_map;`":
            SWAPOFF_LOCKS,
        "swapoff: moved spin_unlock(&swap_lock) above `p->max = 0;`":
            SWAPOFF_LOCKS,
        "swapoff: dropped spin_lock(&swap_lock) and its unlock (3)":
            SWAPOFF_LOCKS,
        "swapoff: spin_lock(&swap_lock) replaced by spin_trylock(&swap_lock), its failure ignored (3)":
            SWAPOFF_LOCKS,
        "swapoff: moved spin_unlock(&swap_lock) above `p->flags = no_flags;`":
            SWAPOFF_LOCKS,
    },
}

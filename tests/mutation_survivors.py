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

BALLOONLOCK = (WEAKNESS, (
    "balloon_lock serialises inflate, deflate and migration on vb->num_pages and the host "
    "virtqueues; the virtqueues (tell_host()) are not modelled and num_pages++/-- are "
    "single atomic steps, so the fixed scenarios cannot tell the lock from its absence"
))

BALLOONNEVERRELEASED = (HARMLESS, (
    "the balloon never releases a page while it is isolated (balloon_page_dequeue() skips "
    "isolated pages; migration deletes the old page itself), so for this driver the branch "
    "is dead"
))

BALLOONNUM = (WEAKNESS, (
    "vb.num_pages is never 0 when deflate runs in the fixed scenarios (two pages are in the "
    "balloon), so the test never fails"
))

DEQUEUEDEAD = (HARMLESS, (
    "with pages_lock held over the walk an isolated page is off the list, so the \"raced "
    "with isolation\" branch is dead in the fixed protocol (the spec says so beside it)"
))

FRESH = (HARMLESS, (
    "the owner trylocks a page it has just allocated and not yet made movable, so no "
    "compactor can hold its lock (the kernel BUG_ON()s the trylock): a lock never waits"
))

LRULOCK = (WEAKNESS, (
    "the section is one store of PG_lru, one atomic step, and isolate_lru_page()'s "
    "test-and-clear under lru_lock is one step too, so nothing interleaves inside either; "
    "in C lru_lock also covers the LRU list (not modelled) and PG_lru is set by a "
    "read-modify-write of page->flags"
))

NEWPAGE = (WEAKNESS, (
    "the target page's lock is only ever tried here and nothing in the scenarios holds it; "
    "the kernel allows a race with the page's previous user (__unmap_and_move(): \"We used "
    "to have a BUG here if trylock_page(newpage) fails\"), on which this edit unlocks a page "
    "not held or sleeps on a page lock while holding another. A thread holding the fresh "
    "page's lock would kill it"
))

NONLRU = (HARMLESS, (
    "__PageMovable() tells a non-LRU movable page from an LRU page; only non-LRU pages are "
    "migrated here and the migrated page keeps PAGE_MAPPING_MOVABLE (__ClearPageMovable()), "
    "so the term is always true"
))

NOTRELEASED = (WEAKNESS, (
    "no page is released by its owner while isolated in the fixed scenarios, so the "
    "released-after-isolation branch never runs and the edit is invisible"
))

ONECOMPACTOR = (WEAKNESS, (
    "each page has one compactor in the fixed scenarios (the scenario with two is tagged "
    "slow): a second compactor of the same page, isolating it while the first holds it, "
    "would show the edit"
))

PUTBACKLOCK = (WEAKNESS, (
    "the page lock at putback excludes the balloon's balloon_page_delete() of the same "
    "page, which the fixed scenarios never run concurrently with a putback (deflate skips "
    "isolated pages), so no holder contends"
))

REFCOUNT = (WEAKNESS, (
    "not analysed to the end: the expected-count check never decides anything the "
    "properties see in the fixed scenarios: either no extra reference exists when it runs, "
    "or going on with one breaks no property (a property on what a waiting process reads "
    "after the exchange would)"
))

SHAPE_COUNTER = (WEAKNESS, (
    "in this shape the lock guards a counter that no property reads, and its updates are "
    "single atomic steps; the shape is about the deadlock, not the data"
))

SHAPE_EMPTYCOUNT = (WEAKNESS, (
    "in the fixed scenario no producer adds an empty zspage while the handler or the other "
    "producer runs its section (flush/drain order them), so the counter's unprotected "
    "read-modify-write loses nothing"
))

SHAPE_NEVERMIGRATE = (WEAKNESS, (
    "taking the released-page branch always means never migrating, which is always safe; no "
    "cover says that migration happened, so the scenario cannot tell"
))

SHAPE_OOMLOCK = (WEAKNESS, (
    "one task reaches the OOM path in the scenarios, so oom_lock never contends"
))

SHAPE_RLOCK_RETRY = (WEAKNESS, (
    "the free worker's second read_lock() never meets the migrator's write lock in the "
    "scenario, so a trylock whose failure is ignored behaves the same"
))

SHAPE_SPURIOUS_WAKE = (HARMLESS, (
    "a wake-up without its condition is spurious: wait_for_isolated_drain() rechecks "
    "isolated_pages == 0 after every wake-up"
))

SHAPE_WAITQ = (WEAKNESS, (
    "one waiter and one waker: the wait-queue lock orders a waiter's queueing against a "
    "waker's ClearPageWaiters(), which loses a wake-up only when a third task locks the "
    "page again; the shape has no such task"
))

SHAPE_WAITTARGET = (HARMLESS, (
    "in the fixed variant this mutex is only something to wait for (reclaim waiting on the "
    "fs lock, the fs task holding it): the fix does not rely on it, and dropping it only "
    "removes a wait"
))

SHAPE_WLOCK_TAIL = (WEAKNESS, (
    "after replace_sub_page() the chain no longer reaches the old page; the old page's "
    "reset, the references and zspage.isolated are read by nothing else in this shape (in "
    "zsmalloc isolated is also under class->lock), so the shortened write section is not "
    "seen"
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

SURVIVORS: dict[str, dict[str, tuple[str, str]]] = {
    "balloon/balloon_compaction.mig": {
        "balloon_page_enqueue: trylock_page(page) replaced by lock_page(page), which waits and succeeds":
            FRESH,
        "balloon_page_enqueue: dropped spin_lock(&b_dev_info.pages_lock) and its unlock":
            BALLOONEXCUSED,
        "balloon_page_enqueue: moved spin_unlock(&b_dev_info.pages_lock) above `balloon_page_insert(page);`":
            BALLOONEXCUSED,
        "balloon_page_dequeue: dropped the check `PageIsolated(page)`: its bail-out is never taken":
            DEQUEUEDEAD,
        "virtballoon_migratepage: dropped spin_lock(&b_dev_info.pages_lock) and its unlock":
            BALLOONEXCUSED,
        "virtballoon_migratepage: moved spin_unlock(&b_dev_info.pages_lock) above `page->owner.isolated = false;`":
            BALLOONEXCUSED,
        "virtballoon_migratepage: moved spin_unlock(&b_dev_info.pages_lock) above `b_dev_info.isolated_pages--;`":
            BALLOONEXCUSED,
        "virtballoon_migratepage: moved spin_unlock(&b_dev_info.pages_lock) above `balloon_page_insert(newpage);`":
            BALLOONEXCUSED,
        "virtballoon_migratepage: dropped spin_lock(&b_dev_info.pages_lock) and its unlock (2)":
            BALLOONEXCUSED,
        "virtballoon_migratepage: moved spin_unlock(&b_dev_info.pages_lock) above `balloon_page_delete(page);`":
            BALLOONEXCUSED,
        "virtballoon_migratepage: moved mutex_unlock(&vb.balloon_lock) above `balloon_page_delete(page);`":
            BALLOONLOCK,
        "inflate: dropped mutex_lock(&vb.balloon_lock) and its unlock":
            BALLOONLOCK,
        "inflate: moved mutex_unlock(&vb.balloon_lock) above `vb.num_pages++;`":
            BALLOONLOCK,
        "inflate: moved mutex_unlock(&vb.balloon_lock) above `balloon_page_enqueue(page);`":
            BALLOONLOCK,
        "deflate: dropped mutex_lock(&vb.balloon_lock) and its unlock":
            BALLOONLOCK,
        "deflate: dropped the check `vb.num_pages > 0`: its branch always runs":
            BALLOONNUM,
        "deflate: moved mutex_unlock(&vb.balloon_lock) above `while (pos != pages) { page = pos->page; list_d...`":
            BALLOONLOCK,
        "deflate: moved mutex_unlock(&vb.balloon_lock) above `n = pos->next;`":
            BALLOONLOCK,
        "deflate: moved mutex_unlock(&vb.balloon_lock) above `pos = pages->next;`":
            BALLOONLOCK,
        "deflate: moved mutex_unlock(&vb.balloon_lock) above `if (vb.num_pages > 0) {                   // nu...`":
            BALLOONLOCK,
        "isolate_movable_page: trylock_page(page) replaced by lock_page(page), which waits and succeeds":
            ASYNC,
        "isolate_movable_page: dropped `PageIsolated(page)` from the check `!PageMovable(page) || PageIsolated(page)`":
            ONECOMPACTOR,
        "isolate_movable_page: moved unlock_page(page) above `__SetPageIsolated(page);`":
            ONECOMPACTOR,
        "move_to_new_page: dropped the check `!PageMovable(page)`: its bail-out is never taken":
            BALLOONNEVERRELEASED,
        "move_to_new_page: dropped `__PageMovable(page)` from the check `rc == MIGRATEPAGE_SUCCESS && __PageMovable(page)`":
            NONLRU,
        "__unmap_and_move: swapped trylock_page(page) and trylock_page(newpage)":
            NEWPAGE,
        "__unmap_and_move: trylock_page(page) replaced by lock_page(page), which waits and succeeds":
            ASYNC,
        "__unmap_and_move: trylock_page(newpage) replaced by lock_page(newpage), which waits and succeeds":
            NEWPAGE,
        "putback_movable_pages: lock_page(page) replaced by trylock_page(page), its failure ignored":
            PUTBACKLOCK,
        "putback_movable_pages: dropped the check `PageMovable(page)`: the first branch always runs":
            BALLOONNEVERRELEASED,
    },
    "exchange/exchange_pages.mig": {
        "putback_lru_page: dropped spin_lock(&lru_lock) and its unlock":
            LRULOCK,
        "putback_lru_page: moved spin_unlock(&lru_lock) above `page->owner.PG_lru = true;`":
            LRULOCK,
        "exchange_page_move_mapping: dropped the check `page_count(to_page) != 1`: its bail-out is never taken":
            REFCOUNT,
        "exchange_page_move_mapping: dropped the check `page_count(from_page) != 1`: its bail-out is never taken":
            REFCOUNT,
    },
    "shapes/callback_lock.mig": {
        "leak_balloon: dropped mutex_lock(&balloon_lock) and its unlock":
            SHAPE_COUNTER,
        "leak_balloon: dropped the check `num_pages > 0`: its branch always runs":
            SHAPE_COUNTER,
        "leak_balloon: moved mutex_unlock(&balloon_lock) above `if (num_pages > 0) num_pages--;`":
            SHAPE_COUNTER,
        "alloc_page_highuser_noretry: dropped mutex_lock(&fs_lock) and its unlock":
            SHAPE_WAITTARGET,
        "alloc_page_nofs: dropped mutex_trylock(&oom_lock) and its unlock":
            SHAPE_OOMLOCK,
        "alloc_page_nofs: mutex_trylock(&oom_lock) replaced by mutex_lock(&oom_lock), which waits and succeeds":
            SHAPE_OOMLOCK,
        "alloc_page_nofs: moved mutex_unlock(&oom_lock) above `out_of_memory();`":
            SHAPE_OOMLOCK,
        "fill_balloon: dropped mutex_lock(&balloon_lock) and its unlock":
            SHAPE_COUNTER,
        "fill_balloon: moved mutex_unlock(&balloon_lock) above `if (got) num_pages++;`":
            SHAPE_COUNTER,
        "fs_writer: dropped mutex_lock(&fs_lock) and its unlock":
            SHAPE_WAITTARGET,
        "fs_writer: moved mutex_unlock(&fs_lock) above `alloc_page_nofs();`":
            SHAPE_WAITTARGET,
    },
    "shapes/chain_walk.mig": {
        "migrator: trylock_page(newpage) replaced by lock_page(newpage), which waits and succeeds":
            FRESH,
        "migrator: dropped the check `!PageMovable(page)`: the first branch always runs":
            SHAPE_NEVERMIGRATE,
        "migrator: moved write_unlock(&zspage.lock) above `put_page(page);`":
            SHAPE_WLOCK_TAIL,
        "migrator: moved write_unlock(&zspage.lock) above `reset_page(page);`":
            SHAPE_WLOCK_TAIL,
        "migrator: moved write_unlock(&zspage.lock) above `get_page(newpage);`":
            SHAPE_WLOCK_TAIL,
        "lock_zspage_fixed: read_lock(&zspage.lock) replaced by read_trylock(&zspage.lock), its failure ignored (2)":
            SHAPE_RLOCK_RETRY,
    },
    "shapes/nonatomic_flag_clear.mig": {
        "lock_page: dropped spin_lock(&page_wait.lock) and its unlock":
            SHAPE_WAITQ,
        "lock_page: spin_lock(&page_wait.lock) replaced by spin_trylock(&page_wait.lock), its failure ignored":
            SHAPE_WAITQ,
        "lock_page: dropped the check `!wait_entry_queued(&page_wait)`: its branch always runs":
            SHAPE_WAITQ,
        "lock_page: moved spin_unlock(&page_wait.lock) above `set_current_state(TASK_UNINTERRUPTIBLE);`":
            SHAPE_WAITQ,
        "lock_page: moved spin_unlock(&page_wait.lock) above `if (!wait_entry_queued(&page_wait)) { // if (li...`":
            SHAPE_WAITQ,
        "wake_up_page_bit: dropped spin_lock(&page_wait.lock) and its unlock":
            SHAPE_WAITQ,
        "wake_up_page_bit: dropped the check `!waitqueue_active(&page_wait)`: its branch always runs":
            SHAPE_WAITQ,
        "wake_up_page_bit: moved spin_unlock(&page_wait.lock) above `if (!waitqueue_active(&page_wait))        // if...`":
            SHAPE_WAITQ,
        "wake_up_page_bit: moved spin_unlock(&page_wait.lock) above `__wake_up_locked(&page_wait);`":
            SHAPE_WAITQ,
    },
    "shapes/teardown_vs_work.mig": {
        "async_free_zspage: moved spin_unlock(&pool->class.lock) above `pool->class.empty_zspages = 0;`":
            SHAPE_EMPTYCOUNT,
        "async_free_zspage: moved spin_unlock(&pool->class.lock) above `n = pool->class.empty_zspages;`":
            SHAPE_EMPTYCOUNT,
        "zs_pool_dec_isolated: dropped the check `pool->isolated_pages == 0 && pool->destroying`: its branch always runs":
            SHAPE_SPURIOUS_WAKE,
        "zs_pool_dec_isolated: dropped `pool->isolated_pages == 0` from the check `pool->isolated_pages == 0 && pool->destroying`":
            SHAPE_SPURIOUS_WAKE,
        "zs_pool_dec_isolated: dropped `pool->destroying` from the check `pool->isolated_pages == 0 && pool->destroying`":
            SHAPE_SPURIOUS_WAKE,
        "compactor: spin_lock(&pool->class.lock) replaced by spin_trylock(&pool->class.lock), its failure ignored":
            SHAPE_EMPTYCOUNT,
        "free_then_destroy: dropped spin_lock(&pool->class.lock) and its unlock":
            SHAPE_EMPTYCOUNT,
        "free_then_destroy: spin_lock(&pool->class.lock) replaced by spin_trylock(&pool->class.lock), its failure ignored":
            SHAPE_EMPTYCOUNT,
        "free_then_destroy: moved spin_unlock(&pool->class.lock) above `if (queue_work(&pool->free_work))         // ki...`":
            SHAPE_EMPTYCOUNT,
        "free_then_destroy: moved spin_unlock(&pool->class.lock) above `pool->class.empty_zspages++;`":
            SHAPE_EMPTYCOUNT,
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
}

"""The on-disk caches of compiled code (`checker.diskcache`,
`checker.explore.codecache`): what they hand back is run, so each defence
(digest, ownership, permissions, links, the size bound, the switch) has a
test that fails without it."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from checker import diskcache
from checker.diskcache import FileCache, key_of
from checker.explore import codecache

PAYLOAD = b"x" * 1000


@pytest.fixture
def cache(tmp_path: Path) -> FileCache:
    return FileCache(lambda: tmp_path / "migcheck-vm" / "kind", 1 << 20, ".bin")


def test_an_entry_comes_back_whole_and_nothing_else_is_left(cache: FileCache) -> None:
    k = key_of("some", b"parts")
    assert cache.get(k) is None and not cache.has(k)
    cache.put(k, PAYLOAD)
    assert cache.get(k) == PAYLOAD and cache.has(k)
    assert [p.name for p in cache.directory.iterdir()] == [f"{k}.bin"]  # no temporary file
    # the directories it made are this user's alone
    for d in (cache.directory, cache.directory.parent):
        assert stat.S_IMODE(d.stat().st_mode) == 0o700


def test_keys_tell_their_parts_apart() -> None:
    assert key_of("ab", "c") != key_of("a", "bc")
    assert key_of("a") == key_of(b"a")


def test_a_damaged_entry_is_a_miss_and_is_removed(cache: FileCache) -> None:
    k = key_of("damaged")
    cache.put(k, PAYLOAD)
    path = cache.path(k)
    data = bytearray(path.read_bytes())
    data[-1] ^= 1  # one flipped bit of the payload
    path.write_bytes(bytes(data))
    assert cache.get(k) is None
    assert not path.exists()
    cache.put(k, PAYLOAD)
    path.write_bytes(path.read_bytes()[:-10])  # torn
    assert cache.get(k) is None


def test_an_entry_under_another_key_is_damaged(cache: FileCache) -> None:
    """The digest covers the key: an entry renamed (by someone who could
    move files about) is not taken for another source's code."""
    a, b = key_of("a"), key_of("b")
    cache.put(a, PAYLOAD)
    os.replace(cache.path(a), cache.path(b))
    assert cache.get(b) is None


def test_a_link_in_place_of_an_entry_is_not_followed(cache: FileCache, tmp_path: Path) -> None:
    k = key_of("linked")
    cache.put(k, PAYLOAD)
    real = tmp_path / "elsewhere"
    os.replace(cache.path(k), real)
    cache.path(k).symlink_to(real)
    assert cache.get(k) is None


def test_a_directory_others_may_write_is_not_trusted_until_mended(cache: FileCache) -> None:
    k = key_of("shared")
    cache.put(k, PAYLOAD)
    d = cache.directory
    d.chmod(0o777)
    assert cache.get(k) is None  # someone else could have put it there
    cache.put(key_of("other"), PAYLOAD)  # this user's directory: made private again
    assert stat.S_IMODE(d.stat().st_mode) == 0o755
    assert cache.get(k) == PAYLOAD


def test_only_migchecks_own_directories_are_mended(tmp_path: Path) -> None:
    """A cache pointed into a directory of someone's (a benchmark's /tmp)
    never changes that directory's mode: it is not trusted, and stays as
    it was; nor is a sticky one touched."""
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    c = FileCache(lambda: shared / "jit", 1 << 20, ".bin")
    c.put(key_of("x"), PAYLOAD)
    assert stat.S_IMODE(shared.stat().st_mode) == 0o777
    assert c.get(key_of("x")) is None
    sticky = tmp_path / "migcheck-vm"
    sticky.mkdir()
    sticky.chmod(0o1777)
    FileCache(lambda: sticky / "py", 1 << 20, ".bin").put(key_of("y"), PAYLOAD)
    assert stat.S_IMODE(sticky.stat().st_mode) == 0o1777


def test_no_home_directory_is_a_private_one_in_the_temporary_directory(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A bare container (no $HOME, no password entry): the cache, numba's
    too, goes to this user's own directory under the temporary one; one of
    someone else's there, or open to others, is not used."""
    def homeless() -> Path:
        raise RuntimeError("Could not determine home directory.")

    for var in ("NUMBA_CACHE_DIR", "XDG_CACHE_HOME", "MIGCHECK_CACHE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(Path, "home", homeless)
    monkeypatch.setattr(diskcache.tempfile, "gettempdir", lambda: str(tmp_path))
    root = diskcache.cache_root()
    assert root == tmp_path / f"migcheck-vm-{os.geteuid()}"
    assert stat.S_IMODE(root.stat().st_mode) == 0o700
    c = FileCache(lambda: diskcache.cache_root() / "py", 1 << 20, ".bin")
    c.put(key_of("z"), PAYLOAD)
    assert c.get(key_of("z")) == PAYLOAD
    other = tmp_path / "other"
    other.mkdir()
    (other / f"migcheck-vm-{os.geteuid()}").mkdir(mode=0o777)
    (other / f"migcheck-vm-{os.geteuid()}").chmod(0o777)
    fresh = diskcache._temp_root(str(other), os.geteuid())
    assert fresh.parent != other and stat.S_IMODE(fresh.stat().st_mode) == 0o700


def test_an_entry_larger_than_the_bound_is_not_read(tmp_path: Path) -> None:
    small = FileCache(lambda: tmp_path / "migcheck-vm" / "kind", 100, ".bin")
    small.put(key_of("big"), PAYLOAD)  # stored, then evicted past the bound
    big = FileCache(lambda: tmp_path / "migcheck-vm" / "kind", 1 << 20, ".bin")
    big.put(key_of("big"), PAYLOAD)
    assert small.get(key_of("big")) is None and big.get(key_of("big")) == PAYLOAD


def test_an_older_formats_files_go_at_the_next_write(cache: FileCache) -> None:
    cache.put(key_of("first"), PAYLOAD)
    old = cache.directory / "0123.o"  # the JIT's objects before this cache
    old.write_bytes(b"object")
    cache.put(key_of("second"), PAYLOAD)
    assert not old.exists() and cache.has(key_of("first"))


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file away needs root")
def test_entries_and_directories_of_another_user_are_not_read(cache: FileCache) -> None:
    k = key_of("theirs")
    cache.put(k, PAYLOAD)
    os.chown(cache.path(k), 65534, 65534)
    assert cache.get(k) is None
    os.chown(cache.path(k), 0, 0)
    assert cache.get(k) == PAYLOAD
    os.chown(cache.directory, 65534, 65534)
    assert cache.get(k) is None
    cache.put(key_of("more"), PAYLOAD)  # nor written to
    assert not cache.path(key_of("more")).exists()


def test_past_its_limit_the_least_recently_used_go(tmp_path: Path) -> None:
    head = len(diskcache._MAGIC) + diskcache._DIGEST
    cache = FileCache(lambda: tmp_path / "migcheck-vm" / "kind", 3 * (head + len(PAYLOAD)),
                      ".bin")
    keys = [key_of(str(i)) for i in range(4)]
    for i, k in enumerate(keys[:3]):
        cache.put(k, PAYLOAD)
        os.utime(cache.path(k), ns=(i * 10**9, i * 10**9))
    assert cache.get(keys[0]) == PAYLOAD  # used: now the most recent
    cache.put(keys[3], PAYLOAD)  # four files: past the limit, down to three quarters
    assert [cache.has(k) for k in keys] == [True, False, False, True]


def test_a_temporary_file_left_by_a_killed_writer_goes_within_the_hour(
        cache: FileCache) -> None:
    cache.put(key_of("first"), PAYLOAD)
    old, fresh = cache.directory / ".a.tmp", cache.directory / ".b.tmp"
    old.write_bytes(b"half")
    fresh.write_bytes(b"half")
    os.utime(old, (0, 0))
    cache.put(key_of("second"), PAYLOAD)
    assert not old.exists() and fresh.exists()


def test_the_switch_turns_reads_and_writes_off(cache: FileCache,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    k = key_of("switched")
    cache.put(k, PAYLOAD)
    monkeypatch.setenv("MIGCHECK_CACHE", "off")
    assert cache.get(k) is None
    cache.put(key_of("not stored"), PAYLOAD)
    assert not cache.path(key_of("not stored")).exists()


def test_cache_root_follows_the_environment(monkeypatch: pytest.MonkeyPatch,
                                            tmp_path: Path) -> None:
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert diskcache.cache_root() == tmp_path / "migcheck-vm"
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "n"))
    assert diskcache.cache_root() == tmp_path / "n" / "migcheck-vm"


# ------------------------------------------------------------ compiled code

BIG = "".join(f"def f{i}(x):\n    return x + {i}\n" for i in range(2000))


@pytest.fixture
def code_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FileCache:
    store = FileCache(lambda: tmp_path / "migcheck-vm" / "py", codecache.LIMIT, ".code")
    monkeypatch.setattr(codecache, "_STORE", store)
    return store


def _run(code: object) -> int:
    env: dict[str, object] = {}
    exec(code, env)
    f = env["f1999"]
    assert callable(f)
    return int(f(1))


def test_generated_code_compiles_once(code_store: FileCache,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    assert len(BIG) >= codecache.CACHE_FROM
    first = codecache.compiled(BIG, "<test>")
    assert _run(first) == 2000
    assert len(list(code_store.directory.iterdir())) == 1

    def no_compile(*args: object) -> None:
        raise AssertionError("compiled again")

    monkeypatch.setattr(codecache, "compile", no_compile, raising=False)
    again = codecache.compiled(BIG, "<test>")
    assert _run(again) == 2000 and again.co_filename == "<test>"
    with pytest.raises(AssertionError, match="compiled again"):
        codecache.compiled(BIG, "<another name>")  # the name is in the code: another entry


def test_small_sources_are_not_stored(code_store: FileCache) -> None:
    codecache.compiled("x = 1\n", "<small>")
    assert not code_store.directory.exists()


def test_an_entry_that_is_not_code_is_compiled_again(code_store: FileCache) -> None:
    codecache.compiled(BIG, "<test>")
    (path,) = code_store.directory.iterdir()
    key = path.name.removesuffix(".code")
    code_store.put(key, b"not zlib")  # a sound entry whose payload is no code object
    assert _run(codecache.compiled(BIG, "<test>")) == 2000
    assert code_store.get(key) != b"not zlib"  # replaced by the real one

#!/usr/bin/env bash
# sync_listing: a listing the kernel cached shows what merges changed in it.
#
# The daemon answers no OPENDIR, so the kernel caches every listing it reads and
# keeps it until told otherwise (src/fs/stale_listings.h). A merge changes a
# directory's names without moving its mtime: before the feed watcher invalidated
# such directories, a conflict copy merged into a listed directory stayed missing
# from `ls` for as long as the mount lived (it showed only after drop_caches).
# Each case lists the directories on A first (so A's kernel caches them), changes
# them through B, and waits up to 10 s for A's `ls` to show it; the kernel's own
# timeouts (5 s) alone never brought the conflict copy back. The move and the
# delete passed before the fix too (the directories' times changed on B come
# along with them); they guard the invalidation of names leaving a listing.
. "$(dirname "$0")/sync_lib.sh"

it_setup
sync_pair

names() { b ls -a "$1" | tr '\n' ' '; }
# shows DIR WANT: A's listing of DIR is WANT (names, space separated, as ls -a).
shows() { [[ $(names "$1") == "$2" ]]; }
expect_listing() {
  local dir=$1 want=$2 what=$3
  wait_until 10 "$what" shows "$dir" "$want" \
    || fail "$what: A lists '$(names "$dir")', expected '$want' (B lists '$(names "${dir/$A/$B}")')"
  log "$what: A lists $want"
}

step "shared tree, synced, listed on A"
b mkdir "$A/c" "$A/from" "$A/to"
write_file "$A/c/f" "base"
write_file "$A/from/moved" "moves"
write_file "$A/from/gone" "is deleted"
wait_trees_equal 10 "initial sync" "$A" "$B"
expect_listing "$A/from" ". .. gone moved " "before the changes"
names "$A/to" >/dev/null

step "a conflict copy merged into a listed directory is listed"
sync_umount B
sync_mount B ""
write_file "$A/c/f" "edit on A"
write_file "$B/c/f" "edit on B"
names "$A/c" >/dev/null  # cached: f alone
sync_umount B
sync_mount B "peer=127.0.0.1:$PA"
wait_until 10 "B lists the copy" bsh 'ls "$1" | grep -q sync-conflict' "$B/c" \
  || fail "B never listed a conflict copy: $(names "$B/c")"
copy=$(b ls "$B/c" | grep sync-conflict)
expect_listing "$A/c" ". .. f $copy " "conflict copy"

step "a move and a delete made on B leave A's cached listings"
b mv "$B/from/moved" "$B/to/moved"
b rm "$B/from/gone"
expect_listing "$A/from" ". .. " "moved and deleted away"
expect_listing "$A/to" ". .. moved " "moved in"
[[ $(b cat "$A/to/moved") == moves ]] || fail "the moved file's content on A: $(b cat "$A/to/moved")"

log PASS

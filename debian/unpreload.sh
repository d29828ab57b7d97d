# unpreload AGENT: take the line AGENT out of /etc/ld.so.preload.
#
# mplaced with '[system] system-agent = yes' adds its agent to
# /etc/ld.so.preload as a line of its own, equal to the agent's installed
# path, and takes it out when it stops.  A daemon that was killed, or a stop
# that failed, can leave the line; once the agent's file is gone, every
# program started would print an error for it.  So the maintainer scripts
# take out exactly that line (no other line is touched, the file keeps its
# owner and mode) and remove the file only when nothing else was in it, as
# before the daemon wrote it.  The new file is renamed into place, so no
# program ever reads a half-written one.  Put into prerm and postrm by
# debian/rules; shell only, since postrm runs when the package's files are
# gone.
unpreload()
{
	_f=/etc/ld.so.preload
	[ -f "$_f" ] || return 0
	grep -qxF "$1" "$_f" || return 0
	_t=$(mktemp "$_f.mplace.XXXXXX") || return 1
	grep -vxF "$1" "$_f" >"$_t" || :
	if [ -s "$_t" ]; then
		chown --reference="$_f" "$_t" && chmod --reference="$_f" "$_t" && mv -f "$_t" "$_f" ||
			{ rm -f "$_t"; return 1; }
	else
		rm -f "$_t" "$_f"
	fi
}

//go:build unix

package node

import (
	"io/fs"
	"syscall"
)

// owner returns a file's owning user and group, -1 when unknown.
func owner(st fs.FileInfo) (uid, gid int) {
	if s, ok := st.Sys().(*syscall.Stat_t); ok {
		return int(s.Uid), int(s.Gid)
	}
	return -1, -1
}

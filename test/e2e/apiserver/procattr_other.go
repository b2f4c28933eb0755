//go:build !linux

package apiserver

import "syscall"

// childAttr has no parent-death signal to ask for outside Linux: a test
// binary that dies leaves its servers running.
func childAttr() *syscall.SysProcAttr { return nil }

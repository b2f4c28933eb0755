package apiserver

import "syscall"

// childAttr makes the kernel kill etcd and kube-apiserver when the test
// binary dies without stopping them (a test timeout panics, say).
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

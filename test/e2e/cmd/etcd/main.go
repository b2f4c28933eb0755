// Command etcd is the etcd server the end-to-end tests run behind
// kube-apiserver. It is built from the go.etcd.io/etcd/server/v3 module at the
// version k8s.io/kubernetes requires, so the tests need no etcd installed.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}

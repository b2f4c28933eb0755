// Package node reads what a control-plane or worker node runs with — static
// pod manifests, kubelet configuration and flags, EncryptionConfiguration,
// admission configuration, kubeconfigs and the PKI directory — and judges
// each security setting by its effective value: the flag, else the
// configuration file, else the upstream default for that version, always
// naming the file and line (or the default) that decided it.
//
// It is a pure library over a file system rooted at a directory (the host's
// / or a copy of it); it never runs or contacts a process.
package node

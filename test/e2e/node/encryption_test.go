package node

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apiserver/pkg/server/options/encryptionconfig"

	"github.com/kubeguard/kubeguard/internal/node"
)

// TestEncryptionConfigDifferential loads every EncryptionConfiguration
// fixture of kubeguard node with the API server's own loader (decoding,
// validation, building the transformers) and with kubeguard: both accept
// it or both refuse it. Files with a KMS plugin on a unix socket are left
// to the live tests: the loader would dial the plugin.
func TestEncryptionConfigDifferential(t *testing.T) {
	files, err := filepath.Glob("../../../internal/node/testdata/cases/enc-*/root/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	more, _ := filepath.Glob("../../../internal/node/testdata/cases/enc-*/root/etc/kubernetes/*/*.yaml")
	files = append(files, more...)
	tried := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(data), "EncryptionConfiguration") || strings.Contains(string(data), "unix://") {
			continue
		}
		tried++
		t.Run(filepath.Base(f), func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			_, upstreamErr := encryptionconfig.LoadEncryptionConfig(ctx, f, false, "kubeguard-e2e")
			n := node.ReadPaths(node.Host{}, []string{f})
			if (upstreamErr == nil) != (len(n.Errors) == 0) {
				t.Errorf("API server's loader: %v; kubeguard: %v", upstreamErr, n.Errors)
			}
		})
	}
	if tried < 6 {
		t.Errorf("only %d fixtures tried", tried)
	}
}

// FuzzEncryptionConfigDifferential holds kubeguard's loader to the API
// server's on any file: both accept it or both refuse it.
func FuzzEncryptionConfigDifferential(f *testing.F) {
	files, _ := filepath.Glob("../../../internal/node/testdata/cases/enc-*/root/*.yaml")
	for _, p := range files {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if strings.Contains(string(data), "unix") || !strings.Contains(string(data), "EncryptionConfiguration") {
			return // a KMS plugin would be dialled
		}
		p := filepath.Join(t.TempDir(), "enc.yaml")
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		_, upstreamErr := encryptionconfig.LoadEncryptionConfig(ctx, p, false, "kubeguard-e2e")
		n := node.ReadPaths(node.Host{}, []string{p})
		if (upstreamErr == nil) != (len(n.Errors) == 0) {
			t.Errorf("API server's loader: %v; kubeguard: %v", upstreamErr, n.Errors)
		}
	})
}

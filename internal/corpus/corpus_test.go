package corpus

import (
	"bytes"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func generate(t *testing.T, o Options) (map[string][]byte, Stats) {
	t.Helper()
	files := map[string][]byte{}
	st, err := Generate(o, func(f File) error {
		files[f.Name] = f.Data
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files, st
}

func TestGenerateIsDeterministic(t *testing.T) {
	a, sa := generate(t, Options{N: 300, Seed: 1})
	b, _ := generate(t, Options{N: 300, Seed: 1})
	c, _ := generate(t, Options{N: 300, Seed: 2})
	if len(a) != len(b) {
		t.Fatalf("%d files, then %d", len(a), len(b))
	}
	for name, data := range a {
		if !bytes.Equal(data, b[name]) {
			t.Fatalf("%s differs between two runs with the same seed", name)
		}
	}
	same := len(a) == len(c)
	for name, data := range a {
		same = same && bytes.Equal(data, c[name])
	}
	if same {
		t.Error("seeds 1 and 2 gave the same corpus")
	}
	if sa.Documents != 300+8 || sa.Files != len(a) {
		t.Errorf("stats %+v for %d files", sa, len(a))
	}
}

// TestGenerateWritesValidWorkloads checks every document: valid YAML, a
// kind of the mix, and a pod spec with containers; and that the mix holds
// insecure and hardened objects.
func TestGenerateWritesValidWorkloads(t *testing.T) {
	files, st := generate(t, Options{N: 500, Seed: 9})
	kinds := map[string]int{}
	var privileged, hardened int
	for name, data := range files {
		dec := yaml.NewDecoder(bytes.NewReader(data))
		for {
			var obj struct {
				APIVersion string `yaml:"apiVersion"`
				Kind       string `yaml:"kind"`
			}
			err := dec.Decode(&obj)
			if err != nil {
				if err.Error() == "EOF" {
					break
				}
				t.Fatalf("%s: %v", name, err)
			}
			if obj.APIVersion == "" {
				t.Fatalf("%s: document without apiVersion", name)
			}
			kinds[obj.Kind]++
		}
		privileged += strings.Count(string(data), "privileged: true")
		hardened += strings.Count(string(data), "drop: [\"ALL\"]")
	}
	for _, k := range []string{"Namespace", "Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "Pod", "ReplicaSet"} {
		if kinds[k] == 0 || kinds[k] != st.Kinds[k] {
			t.Errorf("%d %s objects read, %d counted", kinds[k], k, st.Kinds[k])
		}
	}
	if privileged == 0 || hardened == 0 {
		t.Errorf("%d privileged containers, %d hardened: want both", privileged, hardened)
	}
}

func TestGenerateSingle(t *testing.T) {
	files, st := generate(t, Options{N: 100, Seed: 1, Single: true})
	many, _ := generate(t, Options{N: 100, Seed: 1})
	if len(files) != 1 || st.Files != 1 {
		t.Fatalf("%d files, want one", len(files))
	}
	var size int
	for _, d := range many {
		size += len(d)
	}
	// The same documents, joined by separators.
	if n := len(files["all.yaml"]); n < size || n > size+4*(100+8) {
		t.Errorf("one file of %d bytes for %d bytes of files", n, size)
	}
}

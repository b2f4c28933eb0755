package config

import "testing"

// FuzzParse: no configuration file makes Parse panic or hang, and every
// error names the file.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"",
		"checks:\n  disable: [pss-privileged]\n  severity: {pss-hostPorts: low}\n",
		"check:\n  disable: x\n",
		"checks:\n  severity:\n    pss-privileged: urgent\n",
		"exemptions:\n- checks: [pss-privileged]\n  reason: r\n  name: [a]\n  expires: 2020-01-01\n",
		"parameters: {allowedRegistries: registry.example.com}\n",
		"a: &a [*a]\n",
		"- 1\n- 2\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<16 {
			return
		}
		c, err := Parse("k.yaml", data, known)
		if err != nil {
			if c != nil {
				t.Errorf("config and error: %v", err)
			}
			return
		}
		if c == nil {
			t.Error("no config and no error")
		}
	})
}

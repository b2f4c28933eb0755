package secrets

import (
	"strings"
	"testing"
)

// FuzzCredentialLines feeds arbitrary ConfigMap values to the line reader
// and the shape detectors: they must not panic, and every key reported
// must be on the line reported, so that a finding points where it says.
func FuzzCredentialLines(f *testing.F) {
	for _, seed := range []string{
		"spring.datasource.password=hunter2-longer\n",
		"db:\n  password: \"quoted\"  # comment\n",
		"{\"apiKey\": \"value-1234\",\n}",
		"export GITHUB_TOKEN='x'\n",
		"-----BEGIN RSA PRIVATE KEY-----\nbm90\n-----END RSA PRIVATE KEY-----\n",
		"url=postgres://u:p@h/db\n",
		"=\n:\n\"\":\"\"\n",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		valueKinds(text)
		lines := strings.Split(text, "\n")
		for _, l := range credentialLines(text) {
			if l.line < 1 || l.line > len(lines) {
				t.Fatalf("line %d of %d", l.line, len(lines))
			}
			if !strings.Contains(lines[l.line-1], l.key) {
				t.Fatalf("key %q not on line %d %q", l.key, l.line, lines[l.line-1])
			}
		}
	})
}

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

// FuzzArgCredentials feeds arbitrary command lines and image references
// to their readers: they must not panic, every argument they blame must
// exist, and what they say about it never holds a word of the input longer
// than a flag name (the value is never shown).
func FuzzArgCredentials(f *testing.F) {
	for _, seed := range []string{
		"mysql -uroot -pS3cretPw db\x00--password=Hunter2Longer",
		"--api-token\x00Tk4nX8bQ2mV7zL1",
		"sh\x00-c\x00PGPASSWORD=Pg9vLx2Qw8Rt psql -h db",
		"--source=postgres://u:Zr8mQ3xT6wP@db/x",
		"user:pw@registry.example.com/app:1",
		"--\x00-p\x00=\x00--=",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		argv := strings.Split(text, "\x00")
		imageCredentials(text)
		for i, whats := range argCredentials(argv) {
			if i < 0 || i >= len(argv) {
				t.Fatalf("argument %d of %d blamed", i, len(argv))
			}
			for _, what := range whats {
				for _, w := range strings.Fields(argv[i]) {
					if len(w) >= 12 && !strings.HasPrefix(w, "-") && strings.Contains(what, w) {
						t.Fatalf("%q shows %q", what, w)
					}
				}
			}
		}
	})
}

package secrets

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestKeyWords(t *testing.T) {
	tests := []struct {
		key  string
		want []string
	}{
		{key: "DB_PASSWORD", want: []string{"db", "password"}},
		{key: "apiKey", want: []string{"api", "key"}},
		{key: "APIKey", want: []string{"api", "key"}},
		{key: "x-api-key", want: []string{"x", "api", "key"}},
		{key: "spring.datasource.password", want: []string{"spring", "datasource", "password"}},
		{key: "example.com/deploy-token", want: []string{"example", "com", "deploy", "token"}},
		{key: "OAuth2ClientSecret", want: []string{"o", "auth2", "client", "secret"}},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, keyWords(tt.key)); diff != "" {
				t.Errorf("keyWords(%q) (-want +got):\n%s", tt.key, diff)
			}
		})
	}
}

func TestSensitiveKey(t *testing.T) {
	tests := []struct {
		key  string
		weak bool
		want bool
	}{
		{key: "DB_PASSWORD", weak: true, want: true},
		{key: "DBPASSWORD", weak: true, want: true},
		{key: "db_pass", weak: true, want: false},
		{key: "api-key", want: true},
		{key: "x-api-key", want: true},
		{key: "AWS_SECRET_ACCESS_KEY", want: true},
		{key: "JWT_SECRET", weak: true, want: true},
		{key: "clientSecret", weak: true, want: true},
		{key: "GITHUB_TOKEN", weak: true, want: true},
		{key: "authToken", weak: true, want: true},
		// Secret and token name references in annotations.
		{key: "nginx.ingress.kubernetes.io/auth-secret", want: false},
		{key: "vault.hashicorp.com/agent-inject-token", want: false},
		// Settings about a credential.
		{key: "DB_PASSWORD_FILE", weak: true, want: false},
		{key: "TOKEN_TTL", weak: true, want: false},
		{key: "secretName", weak: true, want: false},
		{key: "AWS_ACCESS_KEY_ID", weak: true, want: false},
		{key: "PASSWORD_POLICY", weak: true, want: false},
		{key: "TOKENIZER", weak: true, want: false},
		{key: "LOG_LEVEL", weak: true, want: false},
		{key: "", weak: true, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			if got := sensitiveKey(tt.key, tt.weak); got != tt.want {
				t.Errorf("sensitiveKey(%q, %v) = %v, want %v", tt.key, tt.weak, got, tt.want)
			}
		})
	}
}

func TestLiteral(t *testing.T) {
	tests := []struct {
		value string
		want  bool
	}{
		{value: "Tr0ub4dor-and-3", want: true},
		{value: "password", want: true},
		{value: "hunter2", want: true},
		{value: "abc", want: false},
		{value: "", want: false},
		{value: "   ", want: false},
		{value: "$(DB_PASSWORD)", want: false},
		{value: "prefix-$(TOKEN)", want: false},
		{value: "${DB_PASSWORD}", want: false},
		{value: "$DB_PASSWORD", want: false},
		{value: "{{ .Values.password }}", want: false},
		{value: "<your-password>", want: false},
		{value: "changeme", want: false},
		{value: "CHANGE_ME", want: false},
		{value: "replace-me", want: false},
		{value: "your-api-key", want: false},
		{value: "xxxxxxxx", want: false},
		{value: "********", want: false},
		{value: "n/a", want: false},
		{value: "true", want: false},
		{value: "off", want: false},
		{value: "3600", want: false},
		{value: "30m", want: false},
		{value: "/etc/db/password", want: false},
		{value: "https://auth.example.com/token", want: false},
		{value: "vault:secret/data/shop#jwt", want: false},
		{value: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db", want: false},
		{value: "projects/shop/secrets/db/versions/1", want: false},
		{value: "postgres://shop:pw-in-url@db/shop", want: true},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			if got := literal(tt.value); got != tt.want {
				t.Errorf("literal(%q) = %v, want %v", tt.value, got, tt.want)
			}
		})
	}
}

func TestValueKinds(t *testing.T) {
	tests := []struct {
		name  string
		value string
		want  []string
	}{
		{name: "pem", value: "-----BEGIN PRIVATE KEY-----\nbm90\n-----END PRIVATE KEY-----", want: []string{"a private key (PEM block)"}},
		{name: "openssh", value: "-----BEGIN OPENSSH PRIVATE KEY-----", want: []string{"a private key (PEM block)"}},
		{name: "certificate", value: "-----BEGIN CERTIFICATE-----"},
		{name: "aws", value: "AKIAZ3N7Q2XKJ5MBT4WD", want: []string{"an AWS access key ID"}},
		{name: "aws session", value: "id=ASIAZ3N7Q2XKJ5MBT4WD;", want: []string{"an AWS access key ID"}},
		{name: "aws documentation example", value: "AKIAIOSFODNN7EXAMPLE"},
		{name: "aws too short", value: "AKIAZ3N7Q2XK"},
		{name: "github", value: "ghp_Zq3xN8vB2mK7pL4sD9fG1hJ6wE5rT0yU2iO8", want: []string{"a GitHub token"}},
		{name: "github fine-grained", value: "github_pat_11ABCDEFG0123456789_abcdefghijklmnop", want: []string{"a GitHub token"}},
		{name: "gitlab", value: "glpat-Xy7Kq2Lm9Np4Rs8Tv3Wz", want: []string{"a GitLab token"}},
		{name: "slack", value: "xoxb-1234567890-abcdefghijkl", want: []string{"a Slack token"}},
		{name: "slack webhook", value: "https://hooks.slack.com/services/T0000FAKE/B0000FAKE/notARealWebhookPath", want: []string{"a Slack webhook URL"}},
		{name: "jwt", value: "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjaS1ib3QifQ.bm90LWEtc2ln", want: []string{"a JWT"}},
		{name: "url password", value: "amqp://guest:guest-pw@rabbit:5672/", want: []string{"a password in a URL"}},
		{name: "url password reference", value: "postgres://shop:$(DB_PASSWORD)@db/shop"},
		{name: "url without password", value: "https://user@example.com/path"},
		{name: "two kinds", value: "AKIAZ3N7Q2XKJ5MBT4WD -----BEGIN EC PRIVATE KEY-----", want: []string{"a private key (PEM block)", "an AWS access key ID"}},
		{name: "plain", value: "registry.example.com/shop/api:1.0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, valueKinds(tt.value)); diff != "" {
				t.Errorf("valueKinds(%q) (-want +got):\n%s", tt.value, diff)
			}
		})
	}
}

func TestCredentialLines(t *testing.T) {
	text := "server.port=8080\n" +
		"spring.datasource.password=hunter2-longer\n" +
		"  password: \"quoted-value\"  # db\n" +
		"  \"apiKey\": \"json-value-123\",\n" +
		"export GITHUB_TOKEN='shell-value'\n" +
		"secret.file=/etc/secret\n" +
		"token:\n" +
		"  nested: value\n" +
		"db_password=${DB_PASSWORD}\n"
	want := []lineFinding{
		{key: "spring.datasource.password", line: 2},
		{key: "password", line: 3},
		{key: "apiKey", line: 4},
		{key: "GITHUB_TOKEN", line: 5},
	}
	if diff := cmp.Diff(want, credentialLines(text), cmp.AllowUnexported(lineFinding{})); diff != "" {
		t.Errorf("credentialLines (-want +got):\n%s", diff)
	}
}

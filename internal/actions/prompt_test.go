package actions

import "testing"

// TestKeys: a terminator list joins into its keys, the schemas' default
// (every key) without a join.
func TestKeys(t *testing.T) {
	for _, c := range []struct {
		list []string
		want string
	}{
		{nil, ""},
		{[]string{"#"}, "#"},
		{[]string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "0", "*", "#"}, allKeys},
		{[]string{"12345", "67890*#"}, allKeys},
		{[]string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "0", "*"}, "1234567890*"},
		{[]string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "0", "*", "#", "#"}, allKeys + "#"},
		{[]string{"#", "*"}, "#*"},
	} {
		if got := keys(c.list); got != c.want {
			t.Errorf("keys(%q) = %q, want %q", c.list, got, c.want)
		}
	}
}

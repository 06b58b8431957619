package actions

import "testing"

// TestKeys: a terminator list joins into its keys, the usual lists
// (every key, in keypad order as the schemas' default, or in allKeys')
// without a join.
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
		{[]string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "0", "#"}, "123456789*0#"},
		{[]string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "0"}, "123456789*0"},
	} {
		if got := keys(c.list); got != c.want {
			t.Errorf("keys(%q) = %q, want %q", c.list, got, c.want)
		}
	}
}

func TestKeysDefaultAllocs(t *testing.T) {
	def := []string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "0", "#"}
	if n := testing.AllocsPerRun(100, func() { keys(def) }); n != 0 {
		t.Errorf("keys of the default list: %.0f allocations, want 0", n)
	}
}

package routing

import "slices"

// trie maps literal keys to the patterns whose matches start with them.
type trie struct {
	kids  [13]*trie // '0'..'9', '+', '*', '#'
	other map[byte]*trie
	pats  []*pattern
	count int // keys stored in this subtree
}

var trieSlot = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	for c := byte('0'); c <= '9'; c++ {
		t[c] = int8(c - '0')
	}
	t['+'], t['*'], t['#'] = 10, 11, 12
	return t
}()

func (n *trie) child(c byte) *trie {
	if i := trieSlot[c]; i >= 0 {
		return n.kids[i]
	}
	return n.other[c]
}

func (n *trie) setChild(c byte, k *trie) {
	if i := trieSlot[c]; i >= 0 {
		n.kids[i] = k
		return
	}
	if k == nil {
		delete(n.other, c)
		return
	}
	if n.other == nil {
		n.other = make(map[byte]*trie)
	}
	n.other[c] = k
}

func (n *trie) insert(key string, p *pattern) {
	n.count++
	for i := 0; i < len(key); i++ {
		k := n.child(key[i])
		if k == nil {
			k = &trie{}
			n.setChild(key[i], k)
		}
		n = k
		n.count++
	}
	n.pats = append(n.pats, p)
}

func (n *trie) remove(key string, p *pattern) {
	t := n
	for i := 0; i < len(key) && t != nil; i++ {
		t = t.child(key[i])
	}
	if t == nil {
		return
	}
	j := slices.Index(t.pats, p)
	if j < 0 {
		return
	}
	t.pats = slices.Delete(t.pats, j, j+1)
	n.count--
	for i := 0; i < len(key); i++ {
		k := n.child(key[i])
		k.count--
		if k.count == 0 {
			n.setChild(key[i], nil)
			return
		}
		n = k
	}
}

// collect appends the patterns keyed by a prefix of s.
func (n *trie) collect(s string, which uint8, out []candidate) []candidate {
	for i := 0; i < len(s); i++ {
		if n = n.child(s[i]); n == nil {
			break
		}
		for _, p := range n.pats {
			out = append(out, candidate{p, which})
		}
	}
	return out
}

package sqlite_test

import (
	"fmt"
	"testing"

	"github.com/switchboard/switchboard/internal/store"
)

// BenchmarkListDocs10000Filtered is the store's part of a filtered
// listing: one device of 10,000 by a JSON field with no index of its own.
func BenchmarkListDocs10000Filtered(b *testing.B) {
	db, _ := tempDB(b)
	ws := make([]store.DocWrite, 0, 10_000)
	for i := range 10_000 {
		owner := "owner0"
		if i == 7777 {
			owner = "owner1"
		}
		body := fmt.Sprintf(`{"id":"dev%05d","name":"phone %d","owner_id":%q,"enabled":true,"sip":{"method":"password","expire_seconds":300}}`, i, i, owner)
		ws = append(ws, store.DocWrite{Doc: store.Doc{Kind: "devices", ID: fmt.Sprintf("dev%05d", i), AccountID: "a", Body: []byte(body)}})
	}
	if _, err := db.ApplyDocs(b.Context(), ws); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		page, _, err := db.ListDocs(b.Context(), "devices", "a", store.DocQuery{Limit: 50, Filters: map[string]string{"owner_id": "owner1"}})
		if err != nil || len(page) != 1 {
			b.Fatalf("%d docs, %v", len(page), err)
		}
	}
}

package explain

import (
	"fmt"
	"slices"
	"testing"
)

func TestEvenlySpaced(t *testing.T) {
	col := []float64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
	tests := []struct {
		n    int
		want []float64
	}{
		{0, col},
		{10, col},
		{20, col},
		{5, []float64{0, 2, 4, 6, 8}},
		{4, []float64{0, 3, 6, 9}},
		{1, []float64{0}},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.n), func(t *testing.T) {
			got := EvenlySpaced([][]float64{col, col}, tc.n)
			if len(got) != 2 || !slices.Equal(got[0], tc.want) || !slices.Equal(got[1], tc.want) {
				t.Fatalf("got %v, want %v in both columns", got, tc.want)
			}
			if len(got[0]) > max(tc.n, 0) && tc.n > 0 && tc.n < len(col) {
				t.Fatalf("%d rows for n = %d", len(got[0]), tc.n)
			}
		})
	}
	if got := EvenlySpaced(nil, 3); got != nil {
		t.Fatalf("no columns: %v", got)
	}
}

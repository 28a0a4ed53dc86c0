package store_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"caserisk/serve/store"
)

// The case workflows: what a new complex case and a fraud referral may
// become, and that closing needs an outcome.
func ExampleCheckTransition() {
	fmt.Println(store.NextStatuses(store.ComplexCase, store.StatusNew))
	fmt.Println(store.NextStatuses(store.TenancyFraud, store.StatusReferred))
	fmt.Println(store.CheckTransition(store.ComplexCase, store.StatusReviewing, store.StatusClosed, ""))
	fmt.Println(store.CheckTransition(store.TenancyFraud, store.StatusInvestigating, store.StatusClosed, store.OutcomeNoFraud))
	// Output:
	// [reviewing closed]
	// [investigating closed]
	// outcome: closing a complex_case case needs an outcome (one of [help_accepted help_declined no_need_found not_reachable already_known])
	// <nil>
}

// Opening a SQLite store applies the migrations; a user gets a role.
func ExampleOpen() {
	dir, err := os.MkdirTemp("", "caserisk-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()
	s, err := store.Open(ctx, "sqlite://"+filepath.Join(dir, "caserisk.db"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	u, err := s.CreateUser(ctx, "j.smith", "caseworker")
	fmt.Println(s.Dialect(), u.ID, u.Role, err)
	// Output:
	// sqlite 1 caseworker <nil>
}

package core_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"caserisk/serve/auth"
	"caserisk/serve/core"
	"caserisk/serve/store"
)

// A caseworker and a fraud officer read the same resident through the
// core: each sees only the services their purpose covers.
func ExampleCore_Resident() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "core-example-")
	defer os.RemoveAll(dir)
	st, err := store.Open(ctx, "sqlite://"+filepath.Join(dir, "example.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()
	in, _ := st.BeginIngest(ctx)
	_ = in.AddResidents(ctx, []store.Resident{{ID: "R1", GivenName: "Ada", FamilyName: "Example", FirstSeen: "2010-01-01"}})
	_ = in.AddEvents(ctx, []store.Event{
		{ResidentID: "R1", Service: "early_help", Date: "2024-02-01", Type: "episode_open"},
		{ResidentID: "R1", Service: "fraud_investigations", Date: "2024-03-01", Type: "referral"},
		{ResidentID: "R1", Service: "rent_account", Date: "2024-04-01", Type: "missed_payment"},
	})
	if err := in.Commit(); err != nil {
		log.Fatal(err)
	}
	c, err := core.New(core.Config{Store: st})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	for _, role := range []auth.Role{auth.Caseworker, auth.FraudOfficer} {
		v, err := c.Resident(ctx, core.Actor{UserID: 1, Name: "someone", Role: role}, "R1", core.TimelineQuery{})
		if err != nil {
			log.Fatal(err)
		}
		fmt.Print(role, ":")
		for _, e := range v.Timeline {
			fmt.Print(" ", e.Service)
		}
		fmt.Println()
	}
	// Output:
	// caseworker: rent_account early_help
	// fraud_officer: rent_account fraud_investigations
}

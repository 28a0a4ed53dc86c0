package dataset_test

import (
	"context"
	"fmt"

	"caserisk/models/dataset"
)

func ExampleReadCSV() {
	csv := "resident_id,as_of,arrears_gbp,audit_sex,label_complex_case,label_tenancy_fraud\n" +
		"R1,2024-01-01,120.5,F,1,\n" +
		"R2,2024-01-01,,M,,0\n"
	t, err := dataset.ReadCSV(context.Background(), "features.csv", []byte(csv), dataset.Options{Label: "label_complex_case"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("features:", t.Names, t.Cols[0])
	fmt.Println("audit:", t.Audit, "dropped:", t.Ignored)
	fmt.Println("label:", t.Label)
	labelled, unknown := t.DropUnlabelled()
	fmt.Println("labelled rows:", labelled.Len(), "unknown:", unknown)

	_, err = dataset.ReadCSV(context.Background(), "features.csv", []byte("resident_id,x\nR1,12,5\n"), dataset.Options{})
	fmt.Println(err)
	_, err = dataset.ReadCSV(context.Background(), "features.csv", []byte("resident_id,x\nR1,1\nR2,twelve\n"), dataset.Options{})
	fmt.Println(err)
	// Output:
	// features: [arrears_gbp] [120.5 NaN]
	// audit: [audit_sex] dropped: [label_tenancy_fraud]
	// label: [1 NaN]
	// labelled rows: 1 unknown: 1
	// features.csv: line 2: 3 fields, but the header has 2
	// features.csv: line 3, column 2 (x): value "twelve" is not a number
}

// Package notebooks holds the Jupyter notebooks for data scientists:
//
//   - 01_explore_features.ipynb: a feature table with pandas, what each
//     feature means, the label over time, features that move with it;
//   - 02_retrain_and_compare.ipynb: train gradient-boosted and logistic
//     models through the CLI with a temporal hold-out and compare them;
//   - 03_fairness_deep_dive.ipynb: the report's fairness audit by group.
//
// They call the caserisk CLI on a small synthetic borough. The package's
// test executes every notebook headless (jupyter nbconvert --execute), so
// they cannot rot; it skips with a message where Jupyter is not installed.
package notebooks

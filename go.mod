module github.com/mlguard/mlguard

go 1.26

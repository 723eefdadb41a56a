library(testthat)
library(jobmonr)

test_check("jobmonr")

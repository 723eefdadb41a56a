# Quickstart from R: one task per location, then a summary of them all.
#
# Start a local server and worker first (`jobmon up`), or set JOBMON_SERVER_URL, and
# install the package (`R CMD INSTALL client/R/jobmonr`). Then:
#   Rscript examples/quickstart.R [OUTPUT_DIRECTORY]
# Run it again with the same directory to resume a run that did not finish.
library(jobmonr)

args <- commandArgs(trailingOnly = TRUE)
out <- if (length(args)) args[[1]] else tempfile("jobmonr-quickstart-")
dir.create(out, showWarnings = FALSE, recursive = TRUE)
out <- normalizePath(out)

tool <- jobmonr::tool(name = "quickstart_r")
jobmonr::set_default_compute_resources(tool, cluster_name = "multiprocess",
                                       resources = list(cores = 1, memory = "1G", runtime = "10m"))
model <- jobmonr::task_template(
  tool = tool, template_name = "model",
  command_template = "echo 'location {location_id}, {year}' > {out}/{location_id}.txt",
  node_args = "location_id", task_args = "year", op_args = "out"
)
summary <- jobmonr::task_template(
  tool = tool, template_name = "summary",
  command_template = "cat {out}/*.txt | wc -l > {out}/summary.txt", op_args = "out"
)
locations <- jobmonr::array_tasks(task_template = model, location_id = 1:20, year = 2026, out = out)
total <- jobmonr::task(task_template = summary, name = "summary", out = out,
                       upstream_tasks = locations)

wf <- jobmonr::workflow(tool = tool, workflow_args = paste("quickstart", out), name = "quickstart_r")
wf <- jobmonr::add_tasks(wf, c(locations, list(total)))
ran_before <- file.exists(file.path(out, "1.txt"))
status <- jobmonr::run(wf, resume = ran_before, seconds_until_timeout = 600)
print(status)
if (status != "D") {  # Jobmon's status letter (also equal to "DONE")
  print(jobmonr::get_errors(wf))
  quit(status = 1)
}
cat("results in", out, "\n")

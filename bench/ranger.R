# bench/ranger.R PREFIX [LEAF] — ranger on the matrices bench/peer.py prepared.
# 100 trees, mtry = floor(sqrt(p)), 2 threads, probability forest. Without
# LEAF (or LEAF 0): ranger's own default min.node.size (10 for probability
# forests). With LEAF: min.node.size = 2 * LEAF — ranger 0.14 has no bound on
# a leaf, only on the node it splits (counted with bootstrap duplicates, as
# our weights are), and we too stop splitting a node below 2 * LEAF.
suppressMessages(library(ranger))
args <- commandArgs(trailingOnly = TRUE)
pre <- args[1]
leaf <- if (length(args) > 1) as.numeric(args[2]) else 0
xtr <- as.matrix(read.csv(paste0(pre, ".xtr"), header = FALSE))
ytr <- scan(paste0(pre, ".ytr"), quiet = TRUE)
xte <- as.matrix(read.csv(paste0(pre, ".xte"), header = FALSE))
yte <- scan(paste0(pre, ".yte"), quiet = TRUE)
colnames(xtr) <- colnames(xte) <- paste0("f", seq_len(ncol(xtr)))
p <- ncol(xtr)
t0 <- Sys.time()
if (leaf > 0) {
  m <- ranger(x = xtr, y = factor(ytr), num.trees = 100, mtry = floor(sqrt(p)),
              min.node.size = 2 * leaf, num.threads = 2, probability = TRUE, seed = 1)
} else {
  m <- ranger(x = xtr, y = factor(ytr), num.trees = 100, mtry = floor(sqrt(p)),
              num.threads = 2, probability = TRUE, seed = 1)
}
fit <- as.numeric(Sys.time() - t0, units = "secs")
t0 <- Sys.time(); pr <- predict(m, xte, num.threads = 2)$predictions[, "1"]
pt <- as.numeric(Sys.time() - t0, units = "secs")
t0 <- Sys.time(); invisible(predict(m, rbind(xtr, xte), num.threads = 2))
pa <- as.numeric(Sys.time() - t0, units = "secs")
lat <- sapply(1:20, function(i) { t <- Sys.time(); invisible(predict(m, xte[1, , drop = FALSE], num.threads = 1)); as.numeric(Sys.time() - t, units = "secs") })
# AUC by ranks (Mann-Whitney)
r <- rank(pr); n1 <- as.numeric(sum(yte == 1)); n0 <- as.numeric(sum(yte == 0))
auc <- (sum(r[yte == 1]) - n1 * (n1 + 1) / 2) / (n1 * n0)
q <- pmin(pmax(pr, 1e-15), 1 - 1e-15)
ll <- -mean(yte * log(q) + (1 - yte) * log(1 - q))
size <- length(serialize(m, NULL))
cat(sprintf('{"fit_s": %.4f, "predict_test_s": %.4f, "predict_all_s": %.4f, "test_auc": %.5f, "test_logloss": %.5f, "model_bytes": %d, "single_lead_us": %.1f, "features": %d}\n',
            fit, pt, pa, auc, ll, size, median(lat) * 1e6, p))

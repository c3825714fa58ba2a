-- The order desk (functions/desk, docs/desk.md) reads orders newest first without a status filter and sums the
-- paid ones per day: both would scan and sort the whole table without these. Additive: no column changes.
ALTER TABLE orders
  ADD KEY idx_orders_created (created_at),
  ADD KEY idx_orders_paid_at (paid_at);

-- Order amounts up to the checkout ceiling (omcommerce.orders.MAX_ORDER_AMOUNT, 99,999,999,999 IDR) no longer fit
-- INT UNSIGNED (4,294,967,295): a product at the top price times two overflowed with MySQL error 1264.
-- idempotency_fingerprint: SHA-256 of the checkout request an Idempotency-Key was first used with, so the key
-- reused with another body is refused (422) instead of silently answering with the first order.
ALTER TABLE orders
  MODIFY freight_cost BIGINT UNSIGNED NOT NULL,
  MODIFY item_cost BIGINT UNSIGNED NOT NULL,
  MODIFY gross_amount BIGINT UNSIGNED NOT NULL,
  ADD COLUMN idempotency_fingerprint CHAR(64) NULL;

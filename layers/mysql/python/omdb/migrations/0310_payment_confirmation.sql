-- Every Midtrans notification is confirmed with the Get Status API before it changes an order (the signature does
-- not cover transaction_status). The notification's own columns keep what it claimed; these keep what Midtrans
-- confirmed (NULL when Midtrans could not be asked or the notification was refused before).
ALTER TABLE payment_notifications
  ADD COLUMN confirmed_status VARCHAR(32) NULL,
  ADD COLUMN confirmed_fraud_status VARCHAR(32) NULL,
  ADD COLUMN confirmed_gross_amount VARCHAR(32) NULL,
  ADD COLUMN confirmed_transaction_id VARCHAR(64) NULL,
  ADD COLUMN confirmed_at DATETIME(3) NULL;

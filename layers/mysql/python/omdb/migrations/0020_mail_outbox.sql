-- The mail outbox (omcommerce.outbox): a mail is written here in the same transaction as the business change that
-- causes it and delivered after the commit (inline, by the SQS-triggered function or by the sweep). event_key names
-- the event ("order:42:paid"): one mail per event, however often the change is replayed.
-- status: pending -> sending (claimed by one deliverer) -> sent | back to pending after a transport error
-- (attempts < MAIL_MAX_ATTEMPTS) | failed. A row left in 'sending' was claimed by a deliverer that stopped before
-- it recorded the outcome: it is never sent again (at most once).
CREATE TABLE IF NOT EXISTS mail_outbox (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  event_key VARCHAR(100) NOT NULL,
  recipient VARCHAR(320) NOT NULL,
  subject VARCHAR(255) NOT NULL,
  body TEXT NOT NULL,
  status VARCHAR(16) NOT NULL DEFAULT 'pending',
  attempts SMALLINT UNSIGNED NOT NULL DEFAULT 0,
  last_error VARCHAR(255) NULL,
  created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  next_attempt_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  claimed_at DATETIME(3) NULL,
  sent_at DATETIME(3) NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_mail_outbox_event (event_key),
  KEY idx_mail_outbox_due (status, next_attempt_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

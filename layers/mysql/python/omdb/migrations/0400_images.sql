-- Uploaded images and their conversion to WebP (functions/images). id = the uuid of "<uuid>.webp".
CREATE TABLE IF NOT EXISTS images (
  id BINARY(16) NOT NULL,
  owner_type VARCHAR(16) NOT NULL,
  owner_id VARCHAR(64) NULL,
  original_key VARCHAR(128) NOT NULL,
  content_type VARCHAR(32) NOT NULL,
  byte_size INT UNSIGNED NOT NULL,
  status VARCHAR(16) NOT NULL,
  failure_reason VARCHAR(255) NULL,
  width INT UNSIGNED NULL,
  height INT UNSIGNED NULL,
  variants VARCHAR(1024) NULL,
  attempts SMALLINT UNSIGNED NOT NULL DEFAULT 0,
  created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  processed_at DATETIME(3) NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_images_original (original_key),
  KEY idx_images_owner (owner_type, owner_id),
  KEY idx_images_status (status, created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

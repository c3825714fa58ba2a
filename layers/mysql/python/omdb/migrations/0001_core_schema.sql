-- Openmerce core schema. Runs on MySQL 8 and MariaDB 10.11: no UUID_TO_BIN/BIN_TO_UUID, no expression defaults,
-- no CHECK-dependent logic, explicit utf8mb4_unicode_ci (MySQL's utf8mb4_0900_* collations do not exist on MariaDB).
-- UUIDs are generated in Python and stored as BINARY(16) in RFC 4122 byte order (UUID_TO_BIN without swap).
-- Corrections of the v1 schema are marked "fix:".

CREATE TABLE IF NOT EXISTS customers (
  id BINARY(16) NOT NULL,
  email VARCHAR(254) NOT NULL,
  hashed_password VARCHAR(100) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  phone_number VARCHAR(15) NULL,
  first_name VARCHAR(50) NOT NULL,
  last_name VARCHAR(50) NOT NULL,
  birth_date DATE NULL,
  gender VARCHAR(6) NULL,
  created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  updated_at DATETIME(3) NULL,
  deleted_at DATETIME(3) NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_customers_email (email),
  UNIQUE KEY uq_customers_phone (phone_number)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS staffs (
  id INT UNSIGNED NOT NULL AUTO_INCREMENT,
  username VARCHAR(32) NOT NULL,
  hashed_password VARCHAR(100) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  name VARCHAR(100) NOT NULL,
  fin_user BOOLEAN NOT NULL DEFAULT FALSE,
  inv_user BOOLEAN NOT NULL DEFAULT FALSE,
  sys_admin BOOLEAN NOT NULL DEFAULT FALSE,
  created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  updated_at DATETIME(3) NULL,
  deleted_at DATETIME(3) NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_staffs_username (username)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- fix: v1 shipped no DDL for this table. Areas down to district (kecamatan) level with a postal code.
CREATE TABLE IF NOT EXISTS shipping_areas (
  id MEDIUMINT UNSIGNED NOT NULL,
  code VARCHAR(16) NOT NULL,
  province VARCHAR(100) NOT NULL,
  city VARCHAR(100) NOT NULL,
  district VARCHAR(100) NOT NULL,
  postal_code VARCHAR(5) NULL,
  full_name VARCHAR(320) NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_shipping_areas_code (code),
  KEY idx_shipping_areas_postal (postal_code),
  FULLTEXT KEY ft_shipping_areas_full_name (full_name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS customer_addresses (
  id BINARY(16) NOT NULL,
  customer_refer BINARY(16) NOT NULL,
  label VARCHAR(30) NOT NULL,
  full_address VARCHAR(255) NOT NULL,
  note VARCHAR(45) NULL,
  recipient_name VARCHAR(50) NOT NULL,
  phone_number VARCHAR(15) NOT NULL,
  shipping_area_refer MEDIUMINT UNSIGNED NOT NULL,
  postal_code VARCHAR(5) NOT NULL,
  created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  updated_at DATETIME(3) NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_customer_addresses_label (customer_refer, label),
  KEY idx_customer_addresses_area (shipping_area_refer),
  CONSTRAINT fk_customer_addresses_customer FOREIGN KEY (customer_refer) REFERENCES customers (id) ON DELETE CASCADE,
  CONSTRAINT fk_customer_addresses_area FOREIGN KEY (shipping_area_refer) REFERENCES shipping_areas (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS categories (
  id INT UNSIGNED NOT NULL AUTO_INCREMENT,
  name VARCHAR(50) NOT NULL,
  description VARCHAR(255) NOT NULL,
  homepage_visibility BOOLEAN NOT NULL DEFAULT FALSE,
  created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  updated_at DATETIME(3) NULL,
  deleted_at DATETIME(3) NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_categories_name (name),
  KEY idx_categories_visible (homepage_visibility, deleted_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS products (
  id BINARY(16) NOT NULL,
  name VARCHAR(85) NOT NULL,
  description VARCHAR(300) NOT NULL,
  price INT UNSIGNED NOT NULL,
  weight DECIMAL(10,2) NOT NULL,
  category_refer INT UNSIGNED NOT NULL,
  -- fix: kept equal to AVG(reviews.rating) by the review code on insert, edit and delete (review_count too).
  cumulative_review DECIMAL(2,1) NOT NULL DEFAULT 0,
  review_count INT UNSIGNED NOT NULL DEFAULT 0,
  length SMALLINT UNSIGNED NOT NULL,
  width SMALLINT UNSIGNED NOT NULL,
  height SMALLINT UNSIGNED NOT NULL,
  created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  updated_at DATETIME(3) NULL,
  deleted_at DATETIME(3) NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_products_name (name),
  KEY idx_products_category (category_refer, deleted_at),
  KEY idx_products_deleted (deleted_at),
  FULLTEXT KEY ft_products_name (name),
  CONSTRAINT fk_products_category FOREIGN KEY (category_refer) REFERENCES categories (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS product_images (
  id BINARY(16) NOT NULL,
  product_refer BINARY(16) NOT NULL,
  created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  PRIMARY KEY (id),
  KEY idx_product_images_product (product_refer, created_at),
  CONSTRAINT fk_product_images_product FOREIGN KEY (product_refer) REFERENCES products (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- fix: exactly one inventory row per product (v1 had a non-unique index). quantity = units available for sale:
-- checkout reserves by decrementing it, cancel/expiry gives the units back exactly once.
CREATE TABLE IF NOT EXISTS inventories (
  id INT UNSIGNED NOT NULL AUTO_INCREMENT,
  product_refer BINARY(16) NOT NULL,
  quantity INT UNSIGNED NOT NULL DEFAULT 0,
  updated_at DATETIME(3) NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_inventories_product (product_refer),
  CONSTRAINT fk_inventories_product FOREIGN KEY (product_refer) REFERENCES products (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- new: every stock change, with who and why.
CREATE TABLE IF NOT EXISTS stock_movements (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  product_refer BINARY(16) NOT NULL,
  delta INT NOT NULL,
  quantity_after INT UNSIGNED NOT NULL,
  reason VARCHAR(32) NOT NULL,
  order_refer BIGINT UNSIGNED NULL,
  staff_refer INT UNSIGNED NULL,
  note VARCHAR(255) NULL,
  created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  PRIMARY KEY (id),
  KEY idx_stock_movements_product (product_refer, created_at),
  KEY idx_stock_movements_order (order_refer)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS cart_items (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  product_refer BINARY(16) NOT NULL,
  customer_refer BINARY(16) NOT NULL,
  quantity SMALLINT UNSIGNED NOT NULL,
  checked BOOLEAN NOT NULL DEFAULT FALSE,
  created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  updated_at DATETIME(3) NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_cart_items_product_customer (product_refer, customer_refer),
  KEY idx_cart_items_customer (customer_refer, checked),
  CONSTRAINT fk_cart_items_product FOREIGN KEY (product_refer) REFERENCES products (id) ON DELETE CASCADE,
  CONSTRAINT fk_cart_items_customer FOREIGN KEY (customer_refer) REFERENCES customers (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS wishlists (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  product_refer BINARY(16) NOT NULL,
  customer_refer BINARY(16) NOT NULL,
  created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  PRIMARY KEY (id),
  UNIQUE KEY uq_wishlists_product_customer (product_refer, customer_refer),
  KEY idx_wishlists_customer (customer_refer),
  CONSTRAINT fk_wishlists_product FOREIGN KEY (product_refer) REFERENCES products (id) ON DELETE CASCADE,
  CONSTRAINT fk_wishlists_customer FOREIGN KEY (customer_refer) REFERENCES customers (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- fix: the order keeps a snapshot of the shipping address (ship_*); the address row may be edited or deleted.
-- status is the order lifecycle (see docs/orders.md); transaction_status keeps Midtrans's last raw value.
CREATE TABLE IF NOT EXISTS orders (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  customer_refer BINARY(16) NOT NULL,
  customer_address_refer BINARY(16) NULL,
  ship_recipient_name VARCHAR(50) NOT NULL,
  ship_phone_number VARCHAR(15) NOT NULL,
  ship_full_address VARCHAR(255) NOT NULL,
  ship_note VARCHAR(45) NULL,
  ship_area_id MEDIUMINT UNSIGNED NOT NULL,
  ship_area_name VARCHAR(320) NOT NULL,
  ship_postal_code VARCHAR(5) NOT NULL,
  courier_code VARCHAR(64) NOT NULL,
  courier_tracking_code VARCHAR(64) NULL,
  freight_cost INT UNSIGNED NOT NULL,
  item_cost INT UNSIGNED NOT NULL,
  gross_amount INT UNSIGNED NOT NULL,
  status VARCHAR(24) NOT NULL,
  transaction_status VARCHAR(32) NULL,
  status_description VARCHAR(255) NULL,
  payment_token VARCHAR(255) NULL,
  payment_redirect_url VARCHAR(512) NULL,
  payment_type VARCHAR(64) NULL,
  payment_expires_at DATETIME(3) NULL,
  is_paid BOOLEAN NOT NULL DEFAULT FALSE,
  is_shipped BOOLEAN NOT NULL DEFAULT FALSE,
  is_cancelled BOOLEAN NOT NULL DEFAULT FALSE,
  need_refund BOOLEAN NOT NULL DEFAULT FALSE,
  stock_released BOOLEAN NOT NULL DEFAULT FALSE,
  idempotency_key VARCHAR(80) NULL,
  created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  updated_at DATETIME(3) NULL,
  paid_at DATETIME(3) NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_orders_idempotency (customer_refer, idempotency_key),
  KEY idx_orders_customer (customer_refer, created_at),
  KEY idx_orders_status (status, created_at),
  KEY idx_orders_expiry (status, payment_expires_at),
  CONSTRAINT fk_orders_customer FOREIGN KEY (customer_refer) REFERENCES customers (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS order_items (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  order_refer BIGINT UNSIGNED NOT NULL,
  product_refer BINARY(16) NOT NULL,
  on_buy_name VARCHAR(85) NOT NULL,
  on_buy_description VARCHAR(300) NOT NULL,
  on_buy_price INT UNSIGNED NOT NULL,
  on_buy_weight DECIMAL(10,2) NOT NULL,
  quantity SMALLINT UNSIGNED NOT NULL,
  PRIMARY KEY (id),
  KEY idx_order_items_order (order_refer),
  KEY idx_order_items_product (product_refer),
  CONSTRAINT fk_order_items_order FOREIGN KEY (order_refer) REFERENCES orders (id),
  CONSTRAINT fk_order_items_product FOREIGN KEY (product_refer) REFERENCES products (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- new: every status transition with who made it and when.
CREATE TABLE IF NOT EXISTS order_status_history (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  order_refer BIGINT UNSIGNED NOT NULL,
  from_status VARCHAR(24) NULL,
  to_status VARCHAR(24) NOT NULL,
  actor_type VARCHAR(16) NOT NULL,
  actor_id VARCHAR(64) NULL,
  note VARCHAR(255) NULL,
  created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  PRIMARY KEY (id),
  KEY idx_order_status_history_order (order_refer, id),
  CONSTRAINT fk_order_status_history_order FOREIGN KEY (order_refer) REFERENCES orders (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS reviews (
  id BINARY(16) NOT NULL,
  order_item_refer BIGINT UNSIGNED NOT NULL,
  product_refer BINARY(16) NOT NULL,
  customer_refer BINARY(16) NOT NULL,
  rating TINYINT UNSIGNED NOT NULL,
  review VARCHAR(255) NULL,
  created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  updated_at DATETIME(3) NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_reviews_order_item (order_item_refer),
  KEY idx_reviews_product (product_refer, created_at),
  KEY idx_reviews_customer (customer_refer),
  CONSTRAINT fk_reviews_order_item FOREIGN KEY (order_item_refer) REFERENCES order_items (id),
  CONSTRAINT fk_reviews_product FOREIGN KEY (product_refer) REFERENCES products (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS homepage_banner (
  id INT UNSIGNED NOT NULL AUTO_INCREMENT,
  file_name VARCHAR(41) NOT NULL,
  href VARCHAR(255) NOT NULL,
  created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  updated_at DATETIME(3) NULL,
  PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- new: every Midtrans notification as received, with its outcome, for audit.
CREATE TABLE IF NOT EXISTS payment_notifications (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  order_refer BIGINT UNSIGNED NULL,
  midtrans_order_id VARCHAR(64) NULL,
  transaction_id VARCHAR(64) NULL,
  transaction_status VARCHAR(32) NULL,
  fraud_status VARCHAR(32) NULL,
  status_code VARCHAR(8) NULL,
  gross_amount VARCHAR(32) NULL,
  signature_valid BOOLEAN NOT NULL DEFAULT FALSE,
  outcome VARCHAR(48) NOT NULL,
  raw_body MEDIUMTEXT NOT NULL,
  received_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  PRIMARY KEY (id),
  KEY idx_payment_notifications_order (order_refer, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

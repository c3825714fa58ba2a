-- The Openmerce v1 schema as documented in openmerce-v1.md §2 (backend:resources/database/sqldump.sql,
-- trigger.sql), written so that it also runs on MariaDB: the v1 DEFAULT (UUID_TO_BIN(UUID())) column defaults are
-- left out (MariaDB has no UUID_TO_BIN; the tests write the BINARY(16) uuids from Python, as the Go app did for
-- products) and blacklist_domains is created without its RANGE COLUMNS partitions. shipping_areas had no public
-- DDL: id and full_name are the two columns v1's code uses.
CREATE TABLE customers (
  id BINARY(16) NOT NULL PRIMARY KEY,
  email VARCHAR(72) NOT NULL UNIQUE,
  hashed_password BINARY(60) NOT NULL,
  phone_number VARCHAR(15) NULL UNIQUE,
  first_name VARCHAR(50) NOT NULL,
  last_name VARCHAR(50) NOT NULL,
  birth_date DATETIME,
  gender VARCHAR(6),
  created_at DATETIME DEFAULT CURRENT_TIMESTAMP,
  updated_at DATETIME,
  deleted_at DATETIME
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE auth_logs (
  id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
  customer_refer BINARY(16) NOT NULL,
  timestamp DATETIME,
  jti VARCHAR(50),
  user_agent VARCHAR(255),
  ip_address VARCHAR(15),
  action VARCHAR(8),
  INDEX (customer_refer),
  INDEX (timestamp),
  FOREIGN KEY (customer_refer) REFERENCES customers (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE areas (
  code VARCHAR(13) NOT NULL PRIMARY KEY,
  name VARCHAR(100) NOT NULL,
  FULLTEXT (name),
  INDEX (code)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE shipping_areas (
  id MEDIUMINT UNSIGNED NOT NULL PRIMARY KEY,
  full_name VARCHAR(304) NOT NULL,
  FULLTEXT (full_name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE customer_addresses (
  id BINARY(16) NOT NULL PRIMARY KEY,
  customer_refer BINARY(16) NOT NULL,
  label VARCHAR(30) NOT NULL,
  full_address VARCHAR(255) NOT NULL,
  note VARCHAR(45) NULL,
  recipient_name VARCHAR(50) NOT NULL,
  phone_number VARCHAR(15) NOT NULL,
  shipping_area_refer MEDIUMINT UNSIGNED NOT NULL,
  postal_code VARCHAR(5) NOT NULL,
  created_at DATETIME DEFAULT CURRENT_TIMESTAMP,
  updated_at DATETIME,
  INDEX (customer_refer),
  UNIQUE (customer_refer, label),
  FOREIGN KEY (customer_refer) REFERENCES customers (id),
  FOREIGN KEY (shipping_area_refer) REFERENCES shipping_areas (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE categories (
  id INT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
  name VARCHAR(50) NOT NULL UNIQUE,
  description VARCHAR(255) NOT NULL,
  homepage_visibility BOOLEAN DEFAULT FALSE,
  created_at DATETIME DEFAULT CURRENT_TIMESTAMP,
  updated_at DATETIME,
  deleted_at DATETIME,
  INDEX (name),
  INDEX (homepage_visibility)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE products (
  id BINARY(16) NOT NULL PRIMARY KEY,
  name VARCHAR(85) NOT NULL UNIQUE,
  description VARCHAR(300) NOT NULL,
  price INT UNSIGNED NOT NULL,
  weight DECIMAL(10,2) NOT NULL,
  category_refer INT UNSIGNED NOT NULL,
  cumulative_review DECIMAL(2,1) DEFAULT 0,
  length SMALLINT UNSIGNED NOT NULL,
  width SMALLINT UNSIGNED NOT NULL,
  height SMALLINT UNSIGNED NOT NULL,
  created_at DATETIME DEFAULT CURRENT_TIMESTAMP,
  updated_at DATETIME,
  deleted_at DATETIME,
  INDEX (id, deleted_at),
  INDEX (category_refer, deleted_at),
  FULLTEXT (name),
  FOREIGN KEY (category_refer) REFERENCES categories (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE product_images (
  id BINARY(16) NOT NULL PRIMARY KEY,
  product_refer BINARY(16) NOT NULL,
  created_at DATETIME DEFAULT CURRENT_TIMESTAMP,
  INDEX (product_refer),
  INDEX (created_at),
  FOREIGN KEY (product_refer) REFERENCES products (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE inventories (
  id INT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
  product_refer BINARY(16) NOT NULL,
  quantity INT UNSIGNED NOT NULL,
  updated_at DATETIME,
  INDEX (product_refer),
  FOREIGN KEY (product_refer) REFERENCES products (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE cart_items (
  id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
  product_refer BINARY(16),
  customer_refer BINARY(16),
  quantity SMALLINT UNSIGNED NOT NULL,
  checked BOOLEAN DEFAULT FALSE,
  INDEX (customer_refer),
  UNIQUE (product_refer, customer_refer),
  FOREIGN KEY (product_refer) REFERENCES products (id),
  FOREIGN KEY (customer_refer) REFERENCES customers (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE wishlists (
  id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
  product_refer BINARY(16),
  customer_refer BINARY(16),
  INDEX (customer_refer),
  UNIQUE (product_refer, customer_refer),
  FOREIGN KEY (product_refer) REFERENCES products (id),
  FOREIGN KEY (customer_refer) REFERENCES customers (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE orders (
  id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
  customer_refer BINARY(16) NOT NULL,
  customer_address_refer BINARY(16) NOT NULL,
  courier_code VARCHAR(255) NOT NULL,
  courier_tracking_code VARCHAR(255) NULL,
  freight_cost INT UNSIGNED NOT NULL,
  item_cost INT UNSIGNED NOT NULL,
  gross_amount INT UNSIGNED NOT NULL,
  transaction_status VARCHAR(255) NULL,
  status_description VARCHAR(255) NULL,
  payment_token VARCHAR(255) NULL,
  payment_redirect_url VARCHAR(255) NULL,
  is_paid BOOLEAN DEFAULT FALSE,
  is_shipped BOOLEAN DEFAULT FALSE,
  is_cancelled BOOLEAN DEFAULT FALSE,
  need_refund BOOLEAN DEFAULT FALSE,
  payment_type VARCHAR(255) NULL,
  created_at DATETIME DEFAULT CURRENT_TIMESTAMP,
  updated_at DATETIME,
  deleted_at DATETIME,
  INDEX (customer_refer),
  INDEX (is_paid, customer_refer),
  INDEX (is_shipped),
  FOREIGN KEY (customer_refer) REFERENCES customers (id),
  FOREIGN KEY (customer_address_refer) REFERENCES customer_addresses (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE order_items (
  id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
  order_refer BIGINT UNSIGNED NOT NULL,
  product_refer BINARY(16) NOT NULL,
  on_buy_name VARCHAR(85) NOT NULL,
  on_buy_description VARCHAR(300) NOT NULL,
  on_buy_price INT UNSIGNED NOT NULL,
  on_buy_weight DECIMAL(10,2) NOT NULL,
  quantity SMALLINT UNSIGNED NOT NULL,
  INDEX (order_refer),
  FOREIGN KEY (order_refer) REFERENCES orders (id),
  FOREIGN KEY (product_refer) REFERENCES products (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE reviews (
  id BINARY(16) NOT NULL PRIMARY KEY,
  order_item_refer BIGINT UNSIGNED NOT NULL,
  product_refer BINARY(16) NOT NULL,
  rating TINYINT UNSIGNED NOT NULL,
  review VARCHAR(255) NULL,
  INDEX (product_refer),
  UNIQUE (order_item_refer),
  FOREIGN KEY (order_item_refer) REFERENCES order_items (id),
  FOREIGN KEY (product_refer) REFERENCES products (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE staffs (
  id INT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
  username VARCHAR(32) NOT NULL UNIQUE,
  hashed_password BINARY(60),
  name VARCHAR(100),
  fin_user BOOLEAN NOT NULL DEFAULT FALSE,
  inv_user BOOLEAN NOT NULL DEFAULT FALSE,
  sys_admin BOOLEAN NOT NULL DEFAULT FALSE,
  created_at DATETIME DEFAULT CURRENT_TIMESTAMP,
  deleted_at DATETIME,
  updated_at DATETIME
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE homepage_banner (
  id INT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
  file_name VARCHAR(41) NOT NULL,
  href VARCHAR(255) NOT NULL,
  created_at DATETIME DEFAULT CURRENT_TIMESTAMP,
  updated_at DATETIME
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE logs (
  id BINARY(16) NOT NULL PRIMARY KEY,
  log_level VARCHAR(7),
  info VARCHAR(255),
  created_at DATETIME DEFAULT CURRENT_TIMESTAMP
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE blacklist_domains (
  domain_name VARCHAR(255) UNIQUE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TRIGGER update_cumulative_review AFTER INSERT ON reviews FOR EACH ROW
  UPDATE products SET cumulative_review = (SELECT AVG(rating) FROM reviews WHERE product_refer = NEW.product_refer)
  WHERE id = NEW.product_refer;

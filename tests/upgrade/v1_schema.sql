-- The Openmerce v1 schema as documented in openmerce-v1.md §2 (backend:resources/database/sqldump.sql, trigger.sql,
-- function.sql), with the adaptations MariaDB 10.11 needs (tests/upgrade/v1shop.py loads it, DELIMITER-aware):
-- * ids: v1's `DEFAULT (UUID_TO_BIN(UUID()))` is written `DEFAULT (UNHEX(REPLACE(UUID(), '-', '')))`, the same value
--   (UUID_TO_BIN without the swap flag) on MySQL 8 and MariaDB, which has no UUID_TO_BIN. UUID() is a version-1
--   UUID on both, so customers, addresses and reviews get version-1 ids, as in a real v1 shop.
-- * collation: v1's tables use MySQL 8's default utf8mb4_0900_ai_ci. MariaDB 10.11 has no such collation; the
--   closest is utf8mb4_uca1400_nopad_ai_ci (a newer UCA, accent- and case-insensitive, NO PAD like 0900). v1shop.py
--   puts the one the server has in place of __V1_COLLATION__ (utf8mb4_0900_ai_ci on MySQL 8).
-- * shipping_areas had no public DDL: id and full_name are the two columns v1's code uses; full_name is
--   VARCHAR(304), the argument of CAP_FIRST, which built it (v1shop.py fills it the same way).
CREATE TABLE customers (
  id BINARY(16) NOT NULL PRIMARY KEY DEFAULT (UNHEX(REPLACE(UUID(), '-', ''))),
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
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=__V1_COLLATION__;

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
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=__V1_COLLATION__;

CREATE TABLE areas (
  code VARCHAR(13) NOT NULL PRIMARY KEY,
  name VARCHAR(100) NOT NULL,
  FULLTEXT (name),
  INDEX (code)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=__V1_COLLATION__;

CREATE TABLE shipping_areas (
  id MEDIUMINT UNSIGNED NOT NULL PRIMARY KEY,
  full_name VARCHAR(304) NOT NULL,
  FULLTEXT (full_name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=__V1_COLLATION__;

CREATE TABLE customer_addresses (
  id BINARY(16) NOT NULL PRIMARY KEY DEFAULT (UNHEX(REPLACE(UUID(), '-', ''))),
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
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=__V1_COLLATION__;

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
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=__V1_COLLATION__;

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
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=__V1_COLLATION__;

CREATE TABLE product_images (
  id BINARY(16) NOT NULL PRIMARY KEY,
  product_refer BINARY(16) NOT NULL,
  created_at DATETIME DEFAULT CURRENT_TIMESTAMP,
  INDEX (product_refer),
  INDEX (created_at),
  FOREIGN KEY (product_refer) REFERENCES products (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=__V1_COLLATION__;

CREATE TABLE inventories (
  id INT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
  product_refer BINARY(16) NOT NULL,
  quantity INT UNSIGNED NOT NULL,
  updated_at DATETIME,
  INDEX (product_refer),
  FOREIGN KEY (product_refer) REFERENCES products (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=__V1_COLLATION__;

CREATE TABLE cart_items (
  id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
  product_refer BINARY(16) NOT NULL,
  customer_refer BINARY(16) NOT NULL,
  quantity SMALLINT UNSIGNED NOT NULL,
  checked BOOLEAN DEFAULT FALSE,
  INDEX (customer_refer),
  UNIQUE (product_refer, customer_refer),
  FOREIGN KEY (product_refer) REFERENCES products (id),
  FOREIGN KEY (customer_refer) REFERENCES customers (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=__V1_COLLATION__;

CREATE TABLE wishlists (
  id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
  product_refer BINARY(16) NOT NULL,
  customer_refer BINARY(16) NOT NULL,
  INDEX (customer_refer),
  UNIQUE (product_refer, customer_refer),
  FOREIGN KEY (product_refer) REFERENCES products (id),
  FOREIGN KEY (customer_refer) REFERENCES customers (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=__V1_COLLATION__;

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
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=__V1_COLLATION__;

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
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=__V1_COLLATION__;

CREATE TABLE reviews (
  id BINARY(16) NOT NULL PRIMARY KEY DEFAULT (UNHEX(REPLACE(UUID(), '-', ''))),
  order_item_refer BIGINT UNSIGNED NOT NULL,
  product_refer BINARY(16) NOT NULL,
  rating TINYINT UNSIGNED NOT NULL,
  review VARCHAR(255) NULL,
  INDEX (product_refer),
  UNIQUE (order_item_refer),
  FOREIGN KEY (order_item_refer) REFERENCES order_items (id),
  FOREIGN KEY (product_refer) REFERENCES products (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=__V1_COLLATION__;

CREATE TABLE staffs (
  id INT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
  username VARCHAR(32) NOT NULL UNIQUE,
  hashed_password BINARY(60) NOT NULL,
  name VARCHAR(100) NOT NULL,
  fin_user BOOLEAN NOT NULL DEFAULT FALSE,
  inv_user BOOLEAN NOT NULL DEFAULT FALSE,
  sys_admin BOOLEAN NOT NULL DEFAULT FALSE,
  created_at DATETIME DEFAULT CURRENT_TIMESTAMP,
  deleted_at DATETIME,
  updated_at DATETIME
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=__V1_COLLATION__;

CREATE TABLE homepage_banner (
  id INT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
  file_name VARCHAR(41) NOT NULL,
  href VARCHAR(255) NOT NULL,
  created_at DATETIME DEFAULT CURRENT_TIMESTAMP,
  updated_at DATETIME
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=__V1_COLLATION__;

CREATE TABLE logs (
  id BINARY(16) NOT NULL PRIMARY KEY DEFAULT (UNHEX(REPLACE(UUID(), '-', ''))),
  log_level VARCHAR(7) NOT NULL,
  info VARCHAR(255) NOT NULL,
  created_at DATETIME DEFAULT CURRENT_TIMESTAMP
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=__V1_COLLATION__;

CREATE TABLE blacklist_domains (
  domain_name VARCHAR(255) UNIQUE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=__V1_COLLATION__
PARTITION BY RANGE COLUMNS (domain_name) (
  PARTITION p0 VALUES LESS THAN ('1'),
  PARTITION p1 VALUES LESS THAN ('2'),
  PARTITION p2 VALUES LESS THAN ('3'),
  PARTITION p3 VALUES LESS THAN ('4'),
  PARTITION p4 VALUES LESS THAN ('5'),
  PARTITION p5 VALUES LESS THAN ('6'),
  PARTITION p6 VALUES LESS THAN ('7'),
  PARTITION p7 VALUES LESS THAN ('8'),
  PARTITION p8 VALUES LESS THAN ('9'),
  PARTITION p9 VALUES LESS THAN ('a'),
  PARTITION p10 VALUES LESS THAN ('b'),
  PARTITION p11 VALUES LESS THAN ('c'),
  PARTITION p12 VALUES LESS THAN ('d'),
  PARTITION p13 VALUES LESS THAN ('e'),
  PARTITION p14 VALUES LESS THAN ('f'),
  PARTITION p15 VALUES LESS THAN ('g'),
  PARTITION p16 VALUES LESS THAN ('h'),
  PARTITION p17 VALUES LESS THAN ('i'),
  PARTITION p18 VALUES LESS THAN ('j'),
  PARTITION p19 VALUES LESS THAN ('k'),
  PARTITION p20 VALUES LESS THAN ('l'),
  PARTITION p21 VALUES LESS THAN ('m'),
  PARTITION p22 VALUES LESS THAN ('n'),
  PARTITION p23 VALUES LESS THAN ('o'),
  PARTITION p24 VALUES LESS THAN ('p'),
  PARTITION p25 VALUES LESS THAN ('q'),
  PARTITION p26 VALUES LESS THAN ('r'),
  PARTITION p27 VALUES LESS THAN ('s'),
  PARTITION p28 VALUES LESS THAN ('t'),
  PARTITION p29 VALUES LESS THAN ('u'),
  PARTITION p30 VALUES LESS THAN ('v'),
  PARTITION p31 VALUES LESS THAN ('w'),
  PARTITION p32 VALUES LESS THAN ('x'),
  PARTITION p33 VALUES LESS THAN ('y'),
  PARTITION p34 VALUES LESS THAN ('z'),
  PARTITION p35 VALUES LESS THAN (MAXVALUE)
);

DELIMITER $$

CREATE TRIGGER update_cumulative_review AFTER INSERT ON reviews FOR EACH ROW
BEGIN
  DECLARE avg_rating DECIMAL(2,1);
  SELECT AVG(rating) INTO avg_rating FROM reviews WHERE product_refer = NEW.product_refer;
  UPDATE products SET cumulative_review = avg_rating WHERE id = NEW.product_refer;
END$$

-- function.sql: title-cases every word (the first letter after a space); never called by the Go code, used to
-- build shipping_areas.full_name
CREATE FUNCTION CAP_FIRST (input VARCHAR(304)) RETURNS VARCHAR(304) DETERMINISTIC
BEGIN
  DECLARE len INT;
  DECLARE i INT;
  SET len = CHAR_LENGTH(input);
  SET input = LOWER(input);
  SET i = 0;
  WHILE (i < len) DO
    IF (MID(input, i, 1) = ' ' OR i = 0) THEN
      IF (i < len) THEN
        SET input = CONCAT(LEFT(input, i), UPPER(MID(input, i + 1, 1)), RIGHT(input, len - i - 1));
      END IF;
    END IF;
    SET i = i + 1;
  END WHILE;
  RETURN input;
END$$

DELIMITER ;

// Quantity attributes print the shortest number that parses back to the same double: plain decimals for
// everyday magnitudes, an exponent otherwise, always readable as a float literal.
// RUN: align-opt %s | FileCheck %s
// RUN: align-opt %s | align-opt | FileCheck %s

// CHECK-LABEL: recipe.recipe @units
recipe.recipe @units {
  // CHECK-NEXT: recipe.tokenizer @tok = "bytes" {
  recipe.tokenizer @tok = "bytes" {
    // CHECK-SAME: a = #recipe.percent<0.1>
    a = #recipe.percent<0.1>,
    // CHECK-SAME: b = #recipe.percent<0.30000000000000004>
    b = #recipe.percent<0.30000000000000004>,
    // CHECK-SAME: c = #recipe.angle<-45.0>
    c = #recipe.angle<-45.0>,
    // CHECK-SAME: d = #recipe.duration<600.0>
    d = #recipe.duration<6.0e+02>,
    // CHECK-SAME: e = #recipe.duration<1.0e-05>
    e = #recipe.duration<0.00001>,
    // CHECK-SAME: f = #recipe.duration<1.2345678901234568e+17>
    f = #recipe.duration<123456789012345678.0>,
    // CHECK-SAME: g = #recipe.percent<0.0>
    g = #recipe.percent<0.0>,
    // CHECK-SAME: h = #recipe.call<"cosine", {final = 1.000000e-01 : f64}>
    h = #recipe.call<"cosine", {final = 0.1 : f64}>
  }
}

// Package addtocopy is the add-to-copy rule: ADD becomes COPY wherever the
// two mean the same.
package addtocopy

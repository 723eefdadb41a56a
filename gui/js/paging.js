// Keyset paging: the cursors of the pages seen so far, so "previous" goes back exactly.
export class Pager {
  constructor() {
    this.cursors = [null];
    this.next = null;
    this.hasNext = false;
  }
  get after() {
    return this.cursors[this.cursors.length - 1];
  }
  get hasPrevious() {
    return this.cursors.length > 1;
  }
  reset() {
    this.cursors = [null];
  }
  seen(page) {
    this.next = page.endCursor;
    this.hasNext = page.hasNextPage;
  }
  step(direction) {
    if (direction > 0 && this.hasNext) this.cursors.push(this.next);
    else if (direction < 0 && this.cursors.length > 1) this.cursors.pop();
  }
}
